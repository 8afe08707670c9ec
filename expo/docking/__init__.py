"""Supply-demand docking: needs and offers, recommendations, meetings, sessions and their schedule, outcomes."""
