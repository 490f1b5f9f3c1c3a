"""The model registry: registered models, their versions, tags, aliases and stages.

``entities`` holds the data model, ``validation`` the checks run before anything is written,
``sources`` the rule for where a version's files may live, ``search`` the filter and order
language, and ``protocol`` the MLflow REST JSON. Stores implement
``runyard.store.registry_base.RegistryStore``.
"""
