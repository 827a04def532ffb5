"""Analysis: read finished runs, make figures and measurements. Never builds networks."""
