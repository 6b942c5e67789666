-- The graph log is pruned by age (housekeeping): a node whose copy is older than what is left
-- reads the whole graph again, which it does anyway after a restart.
CREATE INDEX ci_graph_log_at ON ci_graph_log (at);
