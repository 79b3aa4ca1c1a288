-- Readable rules per segment (snowseg.clustering.rules): a shallow decision tree over the original features
-- approximates the run's segments. RULES is the segment's rules as JSON text (a list: text, conditions, covers,
-- correct, precision, recall); RULE_ACCURACY and RULE_RECALL are its rules together (the share of the customers
-- they cover that are in the segment; the share of the segment they cover); RULES_FIDELITY is the tree's accuracy
-- over the run's rows (the same in every segment of a run). Rows written before have none (NULL).
alter table {database}.{analytics}.SEGMENT_PROFILES add column if not exists RULES varchar;
alter table {database}.{analytics}.SEGMENT_PROFILES add column if not exists RULE_ACCURACY float;
alter table {database}.{analytics}.SEGMENT_PROFILES add column if not exists RULE_RECALL float;
alter table {database}.{analytics}.SEGMENT_PROFILES add column if not exists RULES_FIDELITY float;
