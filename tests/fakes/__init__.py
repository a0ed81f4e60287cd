"""Loopback fakes of external services used by StudyBuddy's tests and benchmarks."""
