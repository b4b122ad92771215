"""The browser suite: see test_notebooks_in_chromium.py."""


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives JupyterLab in headless Chromium (minutes)")
