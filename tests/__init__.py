"""What the tests, the browser harness and bench/ share: real servers (servers.py) and
percentiles (stats.py); and the reliability tests (reliability/)."""
