"""Work ledgers (台帐): one per task and unit, with steps, progress, attachments and Excel."""
