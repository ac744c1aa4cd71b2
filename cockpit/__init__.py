"""The on-call cockpit. Importing the package pulls in nothing but its version."""

__version__ = "0.1.0"
