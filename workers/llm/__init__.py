"""The model-calling layer of agent tasks: plain Python, no Django, no Celery.

``calls.call_model`` runs one model call (``mock/*`` offline, anything else through
litellm, imported only on the first real call); ``catalog`` lists the models a
deployment offers, with prices, without importing litellm.
"""
