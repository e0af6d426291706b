"""The built-in models, by the name users type: each is a model with its properties."""

from kafkacheck.specs.ensemble import EnsembleSpec
from kafkacheck.specs.failover import FailoverSpec
from kafkacheck.specs.kraft_cluster import KraftClusterSpec
from kafkacheck.specs.kraft_quorum import KraftQuorumSpec
from kafkacheck.specs.replication import ReplicationSpec
from kafkacheck.specs.zk_cluster import ZkClusterSpec

MODELS = {
    "failover": FailoverSpec,
    "ensemble": EnsembleSpec,
    "zk-cluster": ZkClusterSpec,
    "kraft-quorum": KraftQuorumSpec,
    "kraft-cluster": KraftClusterSpec,
    "replication": ReplicationSpec,
}
