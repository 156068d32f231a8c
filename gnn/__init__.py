"""Empty placeholder, no modules yet; planned: PyTorch Geometric models scoring each firm's default risk."""
