package clickhouse

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hogsend/hogsend-proxy/config"
)

// Server is a Backend on a clickhouse-server, over the native protocol.
type Server struct {
	conn driver.Conn
	opts *ch.Options // for the bootstrap connection of Migrate
	db   string
	// cluster is the cluster the tables are created on; empty for one server.
	cluster string

	mu   sync.Mutex
	feat *features // detected lazily, then cached

	// scratch backs the placeholder of reserveStrings; its content is
	// never read, only its length.
	scratchMu sync.Mutex
	scratch   []byte
}

// OpenServer opens a connection pool to the server at rawURL:
//
//	clickhouse://host[:9000]/database[?username=&password=&dial_timeout=5s&read_timeout=5m&secure=false]
//
// The database defaults to "hogsend"; user and password may also be given
// as URL user info. OpenServer does no network IO, so a server that is down
// at start-up does not stop the proxy; Ping checks it.
func OpenServer(ctx context.Context, rawURL string) (*Server, error) {
	return OpenCluster(ctx, rawURL, "")
}

// OpenCluster is OpenServer for the servers of the named cluster (its name
// in their remote_servers): Migrate creates replicated, sharded tables on
// it and inserts wait for every shard (docs/clickhouse-cluster.md). The URL
// may name several of its servers, clickhouse://h1:9000,h2:9000/db, which
// new connections try in turn. An empty cluster is one server.
func OpenCluster(_ context.Context, rawURL, cluster string) (*Server, error) {
	opts, db, err := parseServerURL(rawURL)
	if err != nil {
		return nil, err
	}
	if cluster != "" {
		if !identifier.MatchString(cluster) {
			return nil, fmt.Errorf("clickhouse cluster name %q is not a plain identifier", cluster)
		}
		opts.Settings = clusterSettings()
	}
	conn, err := ch.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open clickhouse %s: %w", config.RedactURL(rawURL), err)
	}
	return &Server{conn: conn, opts: opts, db: db, cluster: cluster}, nil
}

func parseServerURL(rawURL string) (*ch.Options, string, error) {
	first, hostList := config.SplitHosts(rawURL)
	u, err := url.Parse(first)
	if err != nil {
		return nil, "", fmt.Errorf("parse clickhouse url: %w", err)
	}
	if u.Scheme != "clickhouse" && u.Scheme != "tcp" {
		return nil, "", fmt.Errorf("clickhouse url %s: scheme must be clickhouse:// (native protocol)", config.RedactURL(rawURL))
	}
	addrs, hostnames, err := serverAddrs(hostList)
	if err != nil {
		return nil, "", fmt.Errorf("clickhouse url %s: %w", config.RedactURL(rawURL), err)
	}
	db := strings.Trim(u.Path, "/")
	if db == "" {
		db = DefaultDatabase
	}
	if !identifier.MatchString(db) {
		return nil, "", fmt.Errorf("clickhouse url %s: database name %q is not a plain identifier", config.RedactURL(rawURL), db)
	}
	opts := &ch.Options{
		Protocol:         ch.Native,
		Addr:             addrs,
		Auth:             ch.Auth{Database: db, Username: "default"},
		DialTimeout:      5 * time.Second,
		ReadTimeout:      5 * time.Minute,
		MaxOpenConns:     8,
		MaxIdleConns:     4,
		ConnMaxLifetime:  time.Hour,
		Compression:      defaultCompression(hostnames),
		ConnOpenStrategy: ch.ConnOpenInOrder,
	}
	if u.User != nil {
		opts.Auth.Username = u.User.Username()
		opts.Auth.Password, _ = u.User.Password()
	}
	for key, vals := range u.Query() {
		v := vals[len(vals)-1]
		switch key {
		case "username", "user":
			opts.Auth.Username = v
		case "password":
			opts.Auth.Password = v
		case "dial_timeout", "read_timeout":
			d, err := time.ParseDuration(v)
			if err != nil {
				return nil, "", fmt.Errorf("clickhouse url %s: %s: %w", config.RedactURL(rawURL), key, err)
			}
			if key == "dial_timeout" {
				opts.DialTimeout = d
			} else {
				opts.ReadTimeout = d
			}
		case "compress":
			switch v {
			case "lz4", "true", "1":
				opts.Compression = &ch.Compression{Method: ch.CompressionLZ4}
			case "none", "false", "0":
				opts.Compression = nil
			default:
				return nil, "", fmt.Errorf("clickhouse url %s: compress: %q is neither lz4 nor none", config.RedactURL(rawURL), v)
			}
		case "secure":
			on, err := strconv.ParseBool(v)
			if err != nil {
				return nil, "", fmt.Errorf("clickhouse url %s: secure: %w", config.RedactURL(rawURL), err)
			}
			if on {
				// With several hosts, crypto/tls checks each one's own name.
				opts.TLS = &tls.Config{}
				if len(hostnames) == 1 {
					opts.TLS.ServerName = hostnames[0]
				}
			}
		default:
			return nil, "", fmt.Errorf("clickhouse url %s: unknown parameter %q", config.RedactURL(rawURL), key)
		}
	}
	return opts, db, nil
}

// serverAddrs is the host:port of every host of the URL (port 9000 when
// none is given), and their host names; ch.ConnOpenInOrder tries them in
// this order.
func serverAddrs(hosts []string) (addrs, hostnames []string, err error) {
	for _, h := range hosts {
		if h == "" {
			return nil, nil, errors.New("missing host")
		}
		name, port, err := net.SplitHostPort(h)
		if err != nil {
			name, port = strings.Trim(h, "[]"), "9000"
		}
		addrs = append(addrs, net.JoinHostPort(name, port))
		hostnames = append(hostnames, name)
	}
	return addrs, hostnames, nil
}

// defaultCompression is LZ4 for servers across a network, where it saves
// about four fifths of the bytes sent, and none when every one is on this
// host's loopback, where compressing and decompressing every block would
// only cost both processes CPU.
func defaultCompression(hosts []string) *ch.Compression {
	for _, host := range hosts {
		if !loopback(host) {
			return &ch.Compression{Method: ch.CompressionLZ4}
		}
	}
	return nil
}

func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// Database is the database the tables are in.
func (s *Server) Database() string { return s.db }

// Migrate creates the database if needed and applies pending migrations.
func (s *Server) Migrate(ctx context.Context) error {
	if err := s.createDatabase(ctx); err != nil {
		return err
	}
	f, err := s.features(ctx)
	if err != nil {
		return err
	}
	if _, err := migrate(ctx, s, s.db, f); err != nil {
		return fmt.Errorf("migrate clickhouse database %s (server %s): %w", s.db, f.Version.Text, err)
	}
	return nil
}

// createDatabase runs CREATE DATABASE over a connection to the server's
// default database: the pool's connections name s.db in their handshake,
// which the server refuses while it does not exist.
func (s *Server) createDatabase(ctx context.Context) error {
	opts := *s.opts
	opts.Auth.Database = ""
	opts.MaxOpenConns, opts.MaxIdleConns = 1, 1
	conn, err := ch.Open(&opts)
	if err != nil {
		return fmt.Errorf("open clickhouse bootstrap connection: %w", err)
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+s.db+features{Cluster: s.cluster}.onCluster()); err != nil {
		return fmt.Errorf("create database %s: %w", s.db, err)
	}
	return nil
}

// features returns the server's schema features, asking it once.
func (s *Server) features(ctx context.Context) (features, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.feat != nil {
		return *s.feat, nil
	}
	f, err := detectFeatures(ctx, s)
	if err != nil {
		return features{}, err
	}
	f.Cluster = s.cluster
	s.feat = &f
	return f, nil
}

// Refused reports whether err is the server's own answer (an exception: bad
// credentials, a statement it rejects) rather than a failure to reach it,
// which time may cure.
func Refused(err error) bool {
	var ex *ch.Exception
	return errors.As(err, &ex)
}

// Ping checks that the server answers.
func (s *Server) Ping(ctx context.Context) error {
	if err := s.conn.Ping(ctx); err != nil {
		return fmt.Errorf("ping clickhouse: %w", err)
	}
	return nil
}

// Close closes the pool.
func (s *Server) Close() error {
	return s.conn.Close()
}

func (s *Server) exec(ctx context.Context, sql string) error {
	return s.conn.Exec(ctx, sql)
}

// Query runs sql and returns its rows as text.
func (s *Server) Query(ctx context.Context, sql string) ([][]string, error) {
	var out [][]string
	err := s.queryRows(ctx, sql, func(row []string) error {
		out = append(out, append([]string(nil), row...))
		return nil
	})
	return out, err
}

func (s *Server) queryRows(ctx context.Context, sql string, fn func(row []string) error) error {
	rows, err := s.conn.Query(ctx, sql)
	if err != nil {
		return err
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	dest := make([]any, len(types))
	for i, t := range types {
		dest[i] = newScanTarget(t)
	}
	row := make([]string, len(types))
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("scan row: %w", err)
		}
		for i := range dest {
			row[i] = formatScanned(dest[i], types[i].DatabaseTypeName())
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return nil
}
