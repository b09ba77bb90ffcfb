"""What inspectors look for: findings that do not add up, read from the projections."""
