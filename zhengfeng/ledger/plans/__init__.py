"""Plans (工作方案): the plan text, its tasks and responsibilities, versions and import."""
