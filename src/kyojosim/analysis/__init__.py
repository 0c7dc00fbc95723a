"""Analysis of results: paired comparisons of variants, sensitivity, projections and validation."""
