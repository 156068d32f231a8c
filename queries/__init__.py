"""Empty placeholder, no modules yet; planned: the analysts' library of named, parameterised Cypher."""
