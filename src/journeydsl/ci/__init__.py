"""Journeys checked in CI: which files a folder holds (`files.py`: hidden and
git-ignored folders skipped) and the machine-readable outputs of `journey
check` (`formats.py`: SARIF 2.1.0 and GitHub workflow commands)."""
