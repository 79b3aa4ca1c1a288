-- About permille / 1,000,000 of a feature query's rows, chosen by a hash of the entity id: deterministic (the same
-- entities every run on the same data) and computed in the warehouse.
select * from ({feature_query}) as f where mod(abs(hash(f.ENTITY_ID)), 1000000) < {permille}
