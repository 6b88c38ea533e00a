#!/bin/sh
# Creates the fleet profile's Redis Cluster (3 masters, 3 replicas) once;
# later runs find it created and exit (docker-compose.yml, profile "fleet").
set -eu
nodes="redis-1:6379 redis-2:6379 redis-3:6379 redis-4:6379 redis-5:6379 redis-6:6379"
for n in $nodes; do
    until redis-cli -h "${n%:*}" -p "${n#*:}" ping >/dev/null 2>&1; do sleep 1; done
done
if redis-cli -h redis-1 cluster info | grep -q '^cluster_state:ok'; then
    echo "redis cluster already created"
    exit 0
fi
# redis-cli wants addresses: resolve each node's name.
addrs=""
for n in $nodes; do
    ip=$(getent hosts "${n%:*}" | awk '{print $1}')
    addrs="$addrs $ip:${n#*:}"
done
# shellcheck disable=SC2086
redis-cli --cluster create $addrs --cluster-replicas 1 --cluster-yes
until redis-cli -h redis-1 cluster info | grep -q '^cluster_state:ok'; do sleep 1; done
echo "redis cluster created"
