"""The group dashboard and the learner's stats page: private read-only web pages behind secret links."""
