select MODEL_RUN_ID, PUBLISHED_AT from {database}.{schema}.MODEL_RUNS where FINGERPRINT = %(fingerprint)s
