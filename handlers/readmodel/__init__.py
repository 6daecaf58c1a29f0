"""Read models: what the office's views show, computed in one place from the reports, the task
marks and the plan. Views (chat texts, the digest, exports, web pages) render their typed
results and never derive a standing, a count or an order on their own."""
