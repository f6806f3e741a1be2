#!/usr/bin/env bash
# Throwaway PostgreSQL and MariaDB servers for clusto-migrate's tests/sql_servers.rs.
#
#   eval "$(clusto-migrate/tests/start-sql-servers.sh start)"   # start (or reuse) both
#   clusto-migrate/tests/start-sql-servers.sh env               # print the exports again
#   clusto-migrate/tests/start-sql-servers.sh stop              # stop both, delete their data
#   eval "$(clusto-migrate/tests/start-sql-servers.sh start postgres)"  # PostgreSQL only
#   clusto-migrate/tests/start-sql-servers.sh restart           # PostgreSQL, `pg_ctl restart -m fast`
#     (make test: the conformance suite on PostgreSQL; its state directory is
#     CLUSTO_SQL_SERVERS_DIR, so it does not meet the servers of test-slow)
#
# `start` installs what is missing (as root on Debian: apt-get install postgresql
# mariadb-server, without letting the packages start their own services), then starts
# a PostgreSQL cluster and a MariaDB server with their data in one state directory
# (CLUSTO_SQL_SERVERS_DIR, default /tmp/clusto-sql-servers), listening on 127.0.0.1
# only, on free ports, with Unix sockets in that directory. Each gets a database
# `clusto` owned by a user `clusto` with a random password. Standard output is only the
# `export CLUSTO_TEST_...=...` lines; progress goes to standard error.
# PostgreSQL runs with fsync=off (tests need no durability across a power cut), unless
# CLUSTO_PG_FSYNC=on (benchmarks whose durable rows must pay the disk).
#
# PostgreSQL also takes TLS on the same port (`ssl = on`): a test CA and a server
# certificate for localhost and 127.0.0.1, made with the openssl command (installed
# when missing), are in $CLUSTO_SQL_SERVERS_DIR/postgres/tls, with a client certificate
# for the role `clusto_cert`, which logs in by certificate only (over TLS, from
# 127.0.0.1) and is a member of `clusto`; the CA's path is exported
# as CLUSTO_TEST_POSTGRES_CA. Beside it, other-ca.crt is a second CA that signed
# nothing (for tests of a wrong CA). A server found running without TLS gets it on a
# reload (no restart).
#
# Running `start` again while the servers run only prints the exports; a server found
# dead is restarted on its data. `stop` stops only the servers this script started
# (by the pids it recorded) and removes the state directory.
#
# As root the servers run as the `postgres` and `mysql` users (created if missing), as
# PostgreSQL refuses to run as root; as another user they run as that user.

set -euo pipefail

STATE=${CLUSTO_SQL_SERVERS_DIR:-/tmp/clusto-sql-servers}
PG=$STATE/postgres
MY=$STATE/mariadb

log() { printf 'start-sql-servers: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

is_root() { [ "$(id -u)" = 0 ]; }

# Runs a command as the user that owns a server's files.
as_user() {
    local user=$1
    shift
    if is_root && [ "$user" != root ]; then
        if command -v runuser >/dev/null; then
            runuser -u "$user" -- "$@"
        else
            su -s /bin/sh "$user" -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

pg_bin() {
    local dir
    dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
        echo "$dir"
    elif command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(command -v initdb)"
    fi
}

maria_bin() {
    local name
    for name in mariadbd mysqld; do
        if command -v "$name" >/dev/null; then
            command -v "$name"
            return
        fi
        if [ -x "/usr/sbin/$name" ]; then
            echo "/usr/sbin/$name"
            return
        fi
    done
}

install_missing() {
    local packages=()
    [ -n "$(pg_bin)" ] || packages+=(postgresql)
    command -v openssl >/dev/null || packages+=(openssl)
    [ -n "$ONLY_PG" ] || { [ -n "$(maria_bin)" ] && command -v mariadb-install-db >/dev/null; } || packages+=(mariadb-server)
    [ ${#packages[@]} -eq 0 ] && return
    is_root || die "missing ${packages[*]}: install them (apt-get install -y ${packages[*]}) or run as root"
    command -v apt-get >/dev/null || die "missing ${packages[*]} and no apt-get to install them"
    log "installing ${packages[*]}"
    # Keep the packages from starting their own system services (and ports) while they
    # install: the Debian way is a policy-rc.d that says no. Only ours is removed.
    local policy=/usr/sbin/policy-rc.d own_policy=
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        own_policy=1
    fi
    local status=0
    {
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}" >&2 ||
            { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}" >&2; }
    } || status=$?
    [ -n "$own_policy" ] && rm -f "$policy"
    [ "$status" = 0 ] || die "apt-get install ${packages[*]} failed"
    [ -n "$(pg_bin)" ] || die "postgresql installed but no initdb/pg_ctl found"
    [ -n "$ONLY_PG" ] || [ -n "$(maria_bin)" ] || die "mariadb-server installed but no mariadbd found"
}

# A TCP port nothing listens on, from a random start in 20000-32767: below Linux's
# ephemeral range (32768-60999), where a port nothing listens on may still be the local
# end of a client's connection and refuse a server's bind.
free_port() {
    local port _
    port=$((20000 + RANDOM % 12768))
    for _ in $(seq 1 200); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            # Not taken by the other server of this script either.
            if ! grep -qsx "$port" "$PG/port" "$MY/port"; then
                echo "$port"
                return
            fi
        fi
        port=$((port + 1))
        [ "$port" -lt 32768 ] || port=20000
    done
    die "no free port found"
}

new_password() {
    echo "clusto-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')"
}

server_user() {
    # $1: postgres or mysql
    if is_root; then
        if ! id "$1" >/dev/null 2>&1; then
            log "creating system user $1"
            useradd --system --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin "$1"
        fi
        echo "$1"
    else
        id -un
    fi
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# ---------------------------------------------------------------- PostgreSQL

pg_pid() { head -n 1 "$PG/data/postmaster.pid" 2>/dev/null || true; }

pg_running() { [ -f "$PG/port" ] && pid_alive "$(pg_pid)"; }

start_postgres() {
    local bin user port password fresh=
    bin=$(pg_bin)
    user=$(server_user postgres)
    if pg_running; then
        log "PostgreSQL already runs (pid $(pg_pid), port $(cat "$PG/port"))"
        if setup_postgres_tls "$(stat -c %U "$PG/data")"; then
            log "TLS set up; reloading PostgreSQL"
            as_user "$(stat -c %U "$PG/data")" "$bin/pg_ctl" -D "$PG/data" reload >&2 ||
                die "PostgreSQL did not reload"
        fi
        return
    fi
    if [ ! -f "$PG/data/PG_VERSION" ] || [ ! -f "$PG/password" ]; then
        rm -rf "$PG"
        install -d -m 755 "$PG"
        install -d -m 700 -o "$user" "$PG/data"
        install -d -m 755 -o "$user" "$PG/socket"
        new_password >"$PG/password"
        chmod 600 "$PG/password"
        log "initdb in $PG/data ($bin)"
        as_user "$user" "$bin/initdb" -D "$PG/data" -U postgres --encoding=UTF8 --locale=C \
            --auth-local=trust --auth-host=scram-sha-256 >"$PG/initdb.log" 2>&1 ||
            { cat "$PG/initdb.log" >&2; die "initdb failed"; }
        fresh=1
    fi
    setup_postgres_tls "$user" || true
    touch "$PG/server.log"
    chown "$user" "$PG/server.log"
    # A port found free can be taken before the server binds it: try a few.
    local attempt started=
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        echo "$port" >"$PG/port"
        log "starting PostgreSQL on 127.0.0.1:$port (attempt $attempt)"
        if as_user "$user" "$bin/pg_ctl" -D "$PG/data" -l "$PG/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $PG/socket -c fsync=${CLUSTO_PG_FSYNC:-off}" start >&2; then
            started=1
            break
        fi
    done
    [ -n "$started" ] || { tail -n 30 "$PG/server.log" >&2; die "PostgreSQL did not start"; }
    if [ -n "$fresh" ]; then
        password=$(cat "$PG/password")
        as_user "$user" "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG/socket" -p "$port" -U postgres -d postgres \
            -c "CREATE ROLE clusto LOGIN PASSWORD '$password'" \
            -c "CREATE DATABASE clusto OWNER clusto ENCODING 'UTF8'" \
            -c "CREATE ROLE clusto_cert LOGIN IN ROLE clusto" >&2 ||
            die "creating the clusto user and database in PostgreSQL failed"
    fi
}

# The test CA, the server's certificate (localhost, 127.0.0.1) and the server's TLS
# settings in postgresql.conf; made once, kept with the data.
setup_postgres_tls() {
    local user=$1 tls=$PG/tls conf=$PG/data/postgresql.conf
    if [ ! -f "$tls/server.crt" ] || [ ! -f "$tls/ca.crt" ] || [ ! -f "$tls/other-ca.crt" ] ||
        [ ! -f "$tls/client.crt" ]; then
        command -v openssl >/dev/null || die "no openssl command to make the test certificates"
        log "making a test CA and a server certificate in $tls"
        rm -rf "$tls"
        install -d -m 755 "$tls"
        cat >"$tls/openssl.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = clusto test
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
        {
            local ca
            for ca in ca other-ca; do
                openssl req -x509 -new -config "$tls/openssl.cnf" -extensions ca -newkey rsa:2048 \
                    -nodes -keyout "$tls/$ca.key" -out "$tls/$ca.crt" -days 3650 \
                    -subj "/CN=clusto test $ca" || return 1
            done
            openssl req -new -config "$tls/openssl.cnf" -newkey rsa:2048 -nodes \
                -keyout "$tls/server.key" -out "$tls/server.csr" -subj "/CN=localhost" &&
                openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
                    -CAcreateserial -out "$tls/server.crt" -days 3650 \
                    -extfile "$tls/openssl.cnf" -extensions server &&
                openssl req -new -config "$tls/openssl.cnf" -newkey rsa:2048 -nodes \
                    -keyout "$tls/client.key" -out "$tls/client.csr" -subj "/CN=clusto_cert" &&
                openssl x509 -req -in "$tls/client.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
                    -CAcreateserial -out "$tls/client.crt" -days 3650 \
                    -extfile "$tls/openssl.cnf" -extensions client
        } >"$tls/openssl.log" 2>&1 || { cat "$tls/openssl.log" >&2; die "making the test certificates failed"; }
        chmod 600 "$tls"/*.key
        chmod 644 "$tls"/*.crt
        # PostgreSQL reads its key only when its own user owns it, unreadable to others.
        chown "$user" "$tls/server.key" "$tls/server.crt"
    fi
    if ! grep -qs '^# clusto tests: TLS' "$conf"; then
        printf "\n# clusto tests: TLS\nssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\nssl_ca_file = '%s'\n" \
            "$tls/server.crt" "$tls/server.key" "$tls/ca.crt" >>"$conf"
        # clusto_cert logs in by its certificate alone (the first matching line wins).
        local hba=$PG/data/pg_hba.conf
        { printf "hostssl all clusto_cert 127.0.0.1/32 cert\n"; cat "$hba"; } >"$hba.new" &&
            chown "$user" "$hba.new" && mv "$hba.new" "$hba"
        return 0
    fi
    return 1
}

restart_postgres() {
    pg_running || die "PostgreSQL is not running (run: $0 start)"
    log "restarting PostgreSQL (pid $(pg_pid))"
    as_user "$(stat -c %U "$PG/data")" "$(pg_bin)/pg_ctl" -D "$PG/data" -l "$PG/server.log" \
        -m fast -w -t 60 restart >&2 || die "PostgreSQL did not restart"
}

stop_postgres() {
    local bin user
    if ! pg_running; then
        return
    fi
    bin=$(pg_bin)
    user=$(stat -c %U "$PG/data")
    log "stopping PostgreSQL (pid $(pg_pid))"
    as_user "$user" "$bin/pg_ctl" -D "$PG/data" -m fast -w -t 60 stop >&2 || {
        local pid
        pid=$(pg_pid)
        pid_alive "$pid" && kill -TERM "$pid"
    }
}

# ---------------------------------------------------------------- MariaDB

my_pid() { cat "$MY/mariadbd.pid" 2>/dev/null || true; }

my_running() { [ -f "$MY/port" ] && pid_alive "$(my_pid)"; }

my_client() {
    local client
    client=$(command -v mariadb || command -v mysql) || die "no mariadb client found"
    "$client" --no-defaults --protocol=socket --socket="$MY/mysqld.sock" -u root "$@"
}

start_mariadb() {
    local bin user port password i fresh=
    bin=$(maria_bin)
    user=$(server_user mysql)
    if my_running; then
        log "MariaDB already runs (pid $(my_pid), port $(cat "$MY/port"))"
        return
    fi
    if [ ! -d "$MY/data/mysql" ] || [ ! -f "$MY/password" ]; then
        rm -rf "$MY"
        install -d -m 755 "$MY"
        install -d -m 750 -o "$user" "$MY/data"
        new_password >"$MY/password"
        chmod 600 "$MY/password"
        log "mariadb-install-db in $MY/data"
        as_user "$user" mariadb-install-db --no-defaults --datadir="$MY/data" --user="$user" \
            --auth-root-authentication-method=normal --skip-test-db >"$MY/install.log" 2>&1 ||
            { cat "$MY/install.log" >&2; die "mariadb-install-db failed"; }
        fresh=1
    fi
    # The socket and pid file go in the state directory, which the server user can write.
    chown "$user" "$MY"
    port=$(free_port)
    echo "$port" >"$MY/port"
    rm -f "$MY/mysqld.sock" "$MY/mariadbd.pid"
    log "starting MariaDB on 127.0.0.1:$port"
    # setsid: the server outlives this script and the shell that ran it.
    setsid "$bin" --no-defaults --datadir="$MY/data" --user="$user" --bind-address=127.0.0.1 \
        --port="$port" --socket="$MY/mysqld.sock" --pid-file="$MY/mariadbd.pid" \
        --log-error="$MY/error.log" --skip-name-resolve --character-set-server=utf8mb4 \
        --innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=64M \
        </dev/null >/dev/null 2>&1 &
    for i in $(seq 1 120); do
        if [ -S "$MY/mysqld.sock" ] && my_client -e 'SELECT 1' >/dev/null 2>&1; then
            break
        fi
        if [ "$i" = 120 ]; then
            tail -n 30 "$MY/error.log" >&2 || true
            die "MariaDB did not start"
        fi
        sleep 0.5
    done
    if [ -n "$fresh" ]; then
        password=$(cat "$MY/password")
        my_client -e "CREATE DATABASE IF NOT EXISTS clusto CHARACTER SET utf8mb4;
            CREATE USER IF NOT EXISTS 'clusto'@'127.0.0.1' IDENTIFIED BY '$password';
            CREATE USER IF NOT EXISTS 'clusto'@'localhost' IDENTIFIED BY '$password';
            GRANT ALL ON clusto.* TO 'clusto'@'127.0.0.1';
            GRANT ALL ON clusto.* TO 'clusto'@'localhost';" >&2 ||
            die "creating the clusto user and database in MariaDB failed"
    fi
}

stop_mariadb() {
    local pid i
    pid=$(my_pid)
    if ! pid_alive "$pid"; then
        return
    fi
    log "stopping MariaDB (pid $pid)"
    kill -TERM "$pid"
    for i in $(seq 1 120); do
        pid_alive "$pid" || return 0
        sleep 0.5
    done
    log "MariaDB did not stop in 60 s; killing pid $pid"
    kill -KILL "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- main

print_env() {
    pg_running || die "PostgreSQL is not running (run: $0 start)"
    echo "export CLUSTO_TEST_POSTGRES_DSN=postgresql://clusto:$(cat "$PG/password")@127.0.0.1:$(cat "$PG/port")/clusto"
    echo "export CLUSTO_TEST_POSTGRES_CA=$PG/tls/ca.crt"
    echo "export CLUSTO_TEST_POSTGRES_CLIENT_CERT=$PG/tls/client.crt"
    echo "export CLUSTO_TEST_POSTGRES_CLIENT_KEY=$PG/tls/client.key"
    echo "export CLUSTO_TEST_POSTGRES_RESTART='CLUSTO_SQL_SERVERS_DIR=$STATE bash $(cd "$(dirname "$0")" && pwd)/$(basename "$0") restart'"
    [ -n "$ONLY_PG" ] && return
    my_running || die "MariaDB is not running (run: $0 start)"
    echo "export CLUSTO_TEST_MYSQL_DSN=mysql://clusto:$(cat "$MY/password")@127.0.0.1:$(cat "$MY/port")/clusto"
}

# `start postgres` / `env postgres`: PostgreSQL only.
ONLY_PG=
[ "${2:-}" = postgres ] && ONLY_PG=1

case "${1:-start}" in
start)
    install_missing
    mkdir -p "$STATE"
    chmod 755 "$STATE"
    start_postgres
    [ -n "$ONLY_PG" ] || start_mariadb
    print_env
    ;;
env)
    print_env
    ;;
restart)
    restart_postgres
    ;;
stop)
    if [ -d "$STATE" ]; then
        stop_postgres
        [ -d "$MY" ] && stop_mariadb
        rm -rf "$STATE"
        log "stopped; removed $STATE"
    else
        log "nothing to stop ($STATE does not exist)"
    fi
    ;;
*)
    echo "usage: $0 [start|env|restart|stop] [postgres]" >&2
    exit 2
    ;;
esac
