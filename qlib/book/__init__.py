"""Market structure: jitted L2 and L3 books and their replay."""
