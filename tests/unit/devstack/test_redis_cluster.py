import pytest

from devstack.redis_cluster import RedisCluster


def test_high_ports_without_bus_ports_are_refused_with_the_reason(tmp_path):
    with pytest.raises(ValueError, match="no default cluster bus port"):
        RedisCluster(tmp_path, range(57040, 57046))


def test_given_bus_ports_go_into_each_nodes_config(tmp_path):
    cluster = RedisCluster(tmp_path, range(57040, 57046), bus_ports=range(57050, 57056))
    assert [node.extra_conf["cluster-port"] for node in cluster.nodes] == list(range(57050, 57056))


def test_low_ports_keep_redis_default_bus_ports(tmp_path):
    cluster = RedisCluster(tmp_path, range(54440, 54446))
    assert [node.extra_conf["cluster-port"] for node in cluster.nodes] == list(range(64440, 64446))


def test_a_bus_port_per_node_is_required(tmp_path):
    with pytest.raises(ValueError, match="6 nodes need 6 bus ports"):
        RedisCluster(tmp_path, range(54440, 54446), bus_ports=[64440])
