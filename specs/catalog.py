"""The built-in models, by the name users type: each is a model with its properties."""

from kafkacheck.specs.failover import FailoverSpec

MODELS = {
    "failover": FailoverSpec,
}
