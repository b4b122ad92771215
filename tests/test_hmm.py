"""course_lib.hmm: forward / backward / posteriors / Viterbi against hmmlearn and brute force; word models.

References: hmmlearn 0.3.3's compiled ``score`` / ``decode`` / ``predict_proba``
on the *same* model (its emission log-likelihoods are computed by hmmlearn and
handed to ours), and enumeration of every path on tiny models. Both are exact
computations of the same quantity in float64, so ``rtol=1e-9`` (only the
summation order differs).
"""

from __future__ import annotations

import numpy as np
import pytest
from hmmlearn import hmm as hl

from course_lib import hmm
from course_lib.errors import ParameterError


def _random_model(rng, N, *, sparse=False):
    pi = rng.dirichlet(np.ones(N))
    A = rng.dirichlet(np.ones(N), size=N)
    if sparse:  # forbid some transitions and starts: -inf in the log domain
        A[rng.random((N, N)) < 0.4] = 0.0
        A[np.arange(N), np.arange(N)] += 0.1         # every row keeps some mass
        A /= A.sum(axis=1, keepdims=True)
        pi[1:] = pi[1:] * (rng.random(N - 1) < 0.5)
        pi /= pi.sum()
    with np.errstate(divide="ignore"):
        return pi, A, np.log(pi), np.log(A)


def _hmmlearn_model(cls, pi, A, rng, n_features=3, **kw):
    N = len(pi)
    m = cls(n_components=N, init_params="", params="", **kw)
    m.startprob_, m.transmat_ = pi, A
    if cls is hl.GaussianHMM:
        m.means_ = rng.standard_normal((N, n_features)) * 2
        cov = kw.get("covariance_type", "diag")
        if cov == "diag":
            m.covars_ = rng.uniform(0.5, 2.0, (N, n_features))
        elif cov == "spherical":
            m.covars_ = rng.uniform(0.5, 2.0, N)
        elif cov == "full":
            L = rng.standard_normal((N, n_features, n_features)) * 0.3
            m.covars_ = L @ L.transpose(0, 2, 1) + np.eye(n_features)
        elif cov == "tied":
            L = rng.standard_normal((n_features, n_features)) * 0.3
            m.covars_ = L @ L.T + np.eye(n_features)
    else:  # GMMHMM with 2 mixtures, diag
        m.n_features = n_features
        m.weights_ = rng.dirichlet(np.ones(2), size=N)
        m.means_ = rng.standard_normal((N, 2, n_features)) * 2
        m.covars_ = rng.uniform(0.5, 2.0, (N, 2, n_features))
    return m


@pytest.mark.parametrize("cov", ["diag", "spherical", "full", "tied"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "with_-inf"])
def test_equal_to_hmmlearn_gaussian(cov, sparse):
    rng = np.random.default_rng(hash((cov, sparse)) % 2**32)
    pi, A, log_pi, log_A = _random_model(rng, 5, sparse=sparse)
    m = _hmmlearn_model(hl.GaussianHMM, pi, A, rng, covariance_type=cov)
    X, _ = m.sample(200, random_state=1)
    log_b = m._compute_log_likelihood(X)                        # (T, N), hmmlearn's own emissions
    fwd = hmm.forward(log_b, log_pi=log_pi, log_A=log_A)
    np.testing.assert_allclose(fwd.log_likelihood, m.score(X), rtol=1e-9)
    ll, path = m.decode(X, algorithm="viterbi")
    vit = hmm.viterbi(log_b, log_pi=log_pi, log_A=log_A)
    np.testing.assert_array_equal(vit.path, path)
    np.testing.assert_allclose(vit.log_prob, ll, rtol=1e-9)
    np.testing.assert_allclose(hmm.posteriors(log_b, log_pi=log_pi, log_A=log_A), m.predict_proba(X),
                               rtol=1e-6, atol=1e-10)


def test_equal_to_hmmlearn_gmmhmm_and_forward_lattice():
    from hmmlearn import _hmmc

    rng = np.random.default_rng(7)
    pi, A, log_pi, log_A = _random_model(rng, 4)
    m = _hmmlearn_model(hl.GMMHMM, pi, A, rng, n_mix=2, covariance_type="diag")
    X, _ = m.sample(150, random_state=2)
    log_b = m._compute_log_likelihood(X)
    fwd = hmm.forward(log_b, log_pi=log_pi, log_A=log_A)
    ref_ll, ref_alpha = _hmmc.forward_log(pi, A, log_b)
    np.testing.assert_allclose(fwd.log_alpha, ref_alpha, rtol=1e-9)
    np.testing.assert_allclose(fwd.log_likelihood, ref_ll, rtol=1e-9)
    np.testing.assert_allclose(hmm.backward(log_b, log_pi=log_pi, log_A=log_A),
                               _hmmc.backward_log(pi, A, log_b), rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(hmm.viterbi(log_b, log_pi=log_pi, log_A=log_A).path,
                                  m.decode(X, algorithm="viterbi")[1])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "with_-inf"])
def test_equal_to_brute_force(seed, sparse):
    rng = np.random.default_rng(seed)
    N, T = 3, 6
    pi, A, log_pi, log_A = _random_model(rng, N, sparse=sparse)
    log_b = np.log(rng.uniform(0.01, 1.0, (T, N)))
    ll, best = hmm.brute_force(log_b, log_pi=log_pi, log_A=log_A)
    np.testing.assert_allclose(hmm.forward(log_b, log_pi=log_pi, log_A=log_A).log_likelihood, ll, rtol=1e-12)
    vit = hmm.viterbi(log_b, log_pi=log_pi, log_A=log_A)
    np.testing.assert_array_equal(vit.path, best.path)
    np.testing.assert_allclose(vit.log_prob, best.log_prob, rtol=1e-12)
    # backward gives the same likelihood from the other end; posteriors sum to one per frame
    beta = hmm.backward(log_b, log_pi=log_pi, log_A=log_A)
    np.testing.assert_allclose(np.logaddexp.reduce(log_pi + log_b[0] + beta[0]), ll, rtol=1e-12)
    gamma = hmm.posteriors(log_b, log_pi=log_pi, log_A=log_A)
    np.testing.assert_allclose(gamma.sum(axis=1), 1.0, rtol=1e-12)


def test_posteriors_equal_brute_force_marginals():
    rng = np.random.default_rng(11)
    N, T = 3, 5
    pi, A, log_pi, log_A = _random_model(rng, N)
    log_b = np.log(rng.uniform(0.01, 1.0, (T, N)))
    import itertools
    joint = np.zeros((T, N))
    for path in itertools.product(range(N), repeat=T):
        p = pi[path[0]] * np.prod([A[a, b] for a, b in zip(path, path[1:])]) * np.prod(np.exp(log_b[range(T), path]))
        joint[range(T), path] += p
    np.testing.assert_allclose(hmm.posteriors(log_b, log_pi=log_pi, log_A=log_A), joint / joint.sum(1, keepdims=True),
                               rtol=1e-10)


def test_long_sequence_does_not_underflow():
    # 5000 frames of likelihood ~1e-3: the probability is ~1e-15000, zero in float64; its log is fine.
    rng = np.random.default_rng(0)
    pi, A, log_pi, log_A = _random_model(rng, 4)
    log_b = np.log(rng.uniform(1e-4, 1e-2, (5000, 4)))
    fwd = hmm.forward(log_b, log_pi=log_pi, log_A=log_A)
    assert np.isfinite(fwd.log_likelihood) and fwd.log_likelihood < -20000
    from hmmlearn import _hmmc
    np.testing.assert_allclose(fwd.log_likelihood, _hmmc.forward_log(pi, A, log_b)[0], rtol=1e-9)
    assert np.isfinite(hmm.viterbi(log_b, log_pi=log_pi, log_A=log_A).log_prob)


def test_left_to_right_path_never_goes_back_and_impossible_is_minus_inf():
    pi, A = hmm.left_to_right(4, self_loop=0.7)
    with np.errstate(divide="ignore"):
        log_pi, log_A = np.log(pi), np.log(A)
    rng = np.random.default_rng(1)
    log_b = np.log(rng.uniform(0.01, 1, (30, 4)))
    path = hmm.viterbi(log_b, log_pi=log_pi, log_A=log_A).path
    assert path[0] == 0 and np.all(np.diff(path) >= 0) and np.all(np.diff(path) <= 1)
    # 2 frames cannot reach... anything is reachable; but a sequence whose every emission is impossible is -inf
    log_b[:, :] = -np.inf
    assert hmm.forward(log_b, log_pi=log_pi, log_A=log_A).log_likelihood == -np.inf
    with pytest.raises(ParameterError, match="impossible"):
        hmm.posteriors(log_b, log_pi=log_pi, log_A=log_A)


@pytest.mark.parametrize("n, loop, jump", [(1, 0.5, 1), (3, 0.6, 1), (5, 0.3, 2), (4, 0.0, 3)])
def test_left_to_right_matrix(n, loop, jump):
    pi, A = hmm.left_to_right(n, self_loop=loop, max_jump=jump)
    assert pi[0] == 1 and pi.sum() == 1
    np.testing.assert_allclose(A.sum(axis=1), 1.0)
    assert np.all(np.tril(A, -1) == 0), "no backward transitions"
    assert np.all(np.triu(A, jump + 1) == 0), f"no jumps further than {jump}"
    assert A[-1, -1] == 1
    np.testing.assert_allclose(np.diag(A)[:-1], loop)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_states": 0}, "n_states"), ({"n_states": 3, "self_loop": 1.0}, "self_loop"),
    ({"n_states": 3, "self_loop": -0.1}, "self_loop"), ({"n_states": 3, "max_jump": 0}, "max_jump"),
])
def test_left_to_right_bad_input(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        hmm.left_to_right(**kwargs)


@pytest.mark.parametrize("fn", [hmm.forward, hmm.backward, hmm.posteriors, hmm.viterbi])
def test_bad_input_names_the_argument(fn):
    lp = np.log(np.full(3, 1 / 3))
    lA = np.log(np.full((3, 3), 1 / 3))
    lb = np.zeros((4, 3))
    with pytest.raises(ParameterError, match=r"log_pi must hold log-probabilities that sum to one"):
        fn(lb, log_pi=np.log([0.5, 0.3, 0.1]), log_A=lA)
    with pytest.raises(ParameterError, match=r"log_A must hold .* \(row 1\)"):
        fn(lb, log_pi=lp, log_A=np.log([[0.5, 0.5, 0.0 + 1e-300], [0.2, 0.2, 0.2], [0.3, 0.3, 0.4]]))
    with pytest.raises(ParameterError, match=r"looks like probabilities: pass np.log\(pi\)"):
        fn(lb, log_pi=np.full(3, 1 / 3), log_A=lA)
    with pytest.raises(ParameterError, match=r"log_A must have shape \(N, N\) = \(3, 3\)"):
        fn(lb, log_pi=lp, log_A=lA[:2])
    with pytest.raises(ParameterError, match=r"log_pi must have shape"):
        fn(lb, log_pi=lp[:2], log_A=lA)
    with pytest.raises(ParameterError, match=r"log_b must be 2-D"):
        fn(lb[0], log_pi=lp, log_A=lA)
    with pytest.raises(ParameterError, match=r"log_b contains NaN"):
        fn(np.full((4, 3), np.nan), log_pi=lp, log_A=lA)
    with pytest.raises(ParameterError, match=r"log_b must have shape \(T, N\) with T >= 1"):
        fn(np.zeros((0, 3)), log_pi=lp, log_A=lA)
