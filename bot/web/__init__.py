"""Public web pages (calendar feeds, dashboards): the neutral page contract and the server that serves it."""
