-- The storage integration's provider, allowed and blocked locations, and the IAM user and external id AWS must trust.
describe integration {storage_integration}
