"""Monitoring alerts: webhooks store the raw payload, workers turn it into de-duplicated tickets."""
