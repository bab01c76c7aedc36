"""Review rounds (督查检查): findings and rectification demands."""
