"""The calendar feature: the plan in the learner's calendar app, as a live feed (/calendar) or a file (/export)."""
