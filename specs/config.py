"""What Kafka's configuration files mean to the built-in models, beyond the parameters' keys.

The command line maps a key of a properties file (``server.properties``, a topic's config as
``kafka-configs --describe`` prints it, a client config) to a model's parameter by the Kafka
key the parameter declares; this module holds the few facts about Kafka that such a mapping
needs and that no single parameter can declare:

- ``kafka`` as a target names Kafka in whichever mode the configuration runs:
  ``process.roles`` set means KRaft (``kraft-cluster``); no ``process.roles`` means ZooKeeper
  mode (``zk-cluster``), as in Kafka 3.x where ``zookeeper.connect`` then names the ensemble.
- a client's ``bootstrap.servers`` is ``host:port`` addresses where the model names brokers by
  id; brokers are alike, so n distinct addresses are brokers 1..n.
- values Kafka accepts in more than one spelling: ``acks=-1`` is ``acks=all``; a KRaft node's
  ``process.roles`` is a set (``controller,broker`` is ``broker,controller``), and a node with
  ``process.roles=broker`` (or ``controller``) runs in a cluster of dedicated controllers,
  the model's ``process.roles=controller``.
- ``kafka-configs --describe`` output: ``Dynamic configs for topic t are:`` then one
  ``key=value sensitive=false synonyms={...}`` line per config.
"""

from __future__ import annotations

import re

#: the target that stands for Kafka in whichever mode its configuration runs
KAFKA = "kafka"


def choose_model(values: dict[str, str]) -> tuple[str, str]:
    """The built-in model a configuration runs as, and why, for the target ``kafka``.

    >>> choose_model({"process.roles": "broker,controller"})
    ('kraft-cluster', 'process.roles=broker,controller: KRaft mode')
    >>> choose_model({"zookeeper.connect": "zk1:2181"})[0]
    'zk-cluster'
    """
    roles = values.get("process.roles")
    if roles is not None and roles.strip():
        return "kraft-cluster", f"process.roles={roles.strip()}: KRaft mode"
    if "zookeeper.connect" in values:
        return "zk-cluster", "zookeeper.connect and no process.roles: ZooKeeper mode"
    return "zk-cluster", "no process.roles: ZooKeeper mode"


class NotModeled(Exception):
    """A value the model has no counterpart for (the reason is the message)."""


def translate(model: str, key: str, value: str) -> str:
    """A value as Kafka writes it, in the spelling the model's parameter takes; raises
    ``NotModeled`` for a value the model cannot express. A client's ``bootstrap.servers``
    (``host:port`` addresses) becomes broker ids: n distinct addresses are brokers 1..n.

    >>> translate("zk-cluster", "acks", "-1")
    'all'
    >>> translate("kraft-cluster", "process.roles", "controller, broker")
    'broker,controller'
    >>> translate("kraft-cluster", "process.roles", "broker")
    'controller'
    >>> translate("zk-cluster", "bootstrap.servers", "kafka1:9092, kafka2:9092")
    '1,2'
    """
    text = value.strip()
    if key == "acks" and text == "-1":
        return "all"
    if key == "bootstrap.servers" and ":" in text:
        # a client's host:port list: the model names brokers by id, and which brokers a
        # client starts from matters only by how many (brokers are alike), so n distinct
        # addresses are brokers 1..n
        hosts = list(dict.fromkeys(h.strip() for h in text.split(",") if h.strip()))
        if not all(":" in h for h in hosts):
            raise NotModeled("a mix of host:port addresses and broker ids")
        return ",".join(str(i) for i in range(1, len(hosts) + 1))
    if key == "process.roles" and model == "kraft-cluster":
        roles = sorted(r.strip() for r in text.split(",") if r.strip())
        if roles == ["broker", "controller"]:
            return "broker,controller"
        if roles in (["broker"], ["controller"]):
            return "controller"
    return text


_DESCRIBE_HEADER = re.compile(r"^\S.* configs for .+ are:\s*$")
_DESCRIBE_ENTRY = re.compile(r"^\s+([^=\s]+)=(.*?) sensitive=(?:true|false) synonyms=\{.*\}\s*$")


def is_describe_output(text: str) -> bool:
    """Whether a file is ``kafka-configs --describe`` output rather than a properties file."""
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    return bool(_DESCRIBE_HEADER.match(first))


def describe_entries(text: str):
    """``(line, key, value)`` for each config of ``kafka-configs --describe`` output, and
    ``(line, None, raw)`` for a line that is neither a header nor a config line."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or _DESCRIBE_HEADER.match(line):
            continue
        m = _DESCRIBE_ENTRY.match(line)
        if m:
            yield number, m.group(1), m.group(2)
        else:
            yield number, None, line
