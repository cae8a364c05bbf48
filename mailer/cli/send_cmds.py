"""Send, schedule and control sends; worker, scheduler and demo."""
