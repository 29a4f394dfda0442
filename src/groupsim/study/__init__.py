"""The study layer: experiments over many runs (compare, power), their statistics and reports."""
