// Package pgtest starts a throw-away PostgreSQL server for tests: Debian's
// postgresql binaries, a cluster made by initdb in a temporary directory,
// owned by an unprivileged user when the test runs as root, listening on a
// Unix socket in that directory and on a free loopback port (for TLS and
// password tests). The server is stopped and removed when the test ends.
//
// Where PostgreSQL is not installed, Start skips the test; with
// OTSCOPE_STRICT=1 (as in CI) it fails instead, naming what is missing.
package pgtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"otscope/scan/testenv"
)

// Server is a running test cluster.
type Server struct {
	Dir      string // data directory
	Socket   string // directory of the Unix socket
	Port     int    // loopback TCP port
	User     string // superuser (trust on the socket)
	Password string // password of the "otscope" role (scram on TCP)
	bin      string
	owner    *user.User
}

// BinDir returns the directory of Debian's PostgreSQL binaries, newest
// version first, or "" when none is installed.
func BinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

var shared struct {
	sync.Mutex
	srv  *Server
	stop func()
}

// Shared returns one cluster for every test of the process that does not
// stop it (start it with Start when a test does); StopShared, called from
// TestMain after m.Run, removes it.
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.Lock()
	defer shared.Unlock()
	if shared.srv == nil {
		c := &collect{TB: t}
		shared.srv = Start(c)
		shared.stop = c.run
	}
	return shared.srv
}

// StopShared stops the shared cluster, if one was started.
func StopShared() {
	shared.Lock()
	defer shared.Unlock()
	if shared.stop != nil {
		shared.stop()
		shared.srv, shared.stop = nil, nil
	}
}

// collect keeps the cleanups of the shared cluster for StopShared instead
// of the first test's end.
type collect struct {
	testing.TB
	fns []func()
}

func (c *collect) Cleanup(f func()) { c.fns = append(c.fns, f) }

func (c *collect) run() {
	for i := len(c.fns) - 1; i >= 0; i-- {
		c.fns[i]()
	}
}

// Start initialises and starts a cluster for t.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := BinDir()
	if bin == "" {
		need(t, "PostgreSQL server binaries (Debian package postgresql)")
	}
	s := &Server{bin: bin, User: "postgres", Password: "s3cret-otscope"}
	base, err := os.MkdirTemp("", "otscope-pg-")
	if err != nil {
		t.Fatal(err)
	}
	s.Dir = filepath.Join(base, "data")
	s.Socket = base
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			need(t, "the unprivileged user 'postgres' (Debian package postgresql)")
		}
		s.owner = u
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(base, uid, gid); err != nil {
			t.Fatal(err)
		}
	} else if u, err := user.Current(); err == nil {
		s.User = u.Username
	}
	t.Cleanup(func() {
		s.ctl("stop", "-m", "immediate", "-w", "-t", "20")
		os.RemoveAll(base)
	})
	pwfile := filepath.Join(base, "pw")
	if err := os.WriteFile(pwfile, []byte(s.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.chown(pwfile)
	if out, err := s.run("initdb", "-D", s.Dir, "-U", s.User, "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	s.Port = freePort(t)
	conf := fmt.Sprintf("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nfsync = off\n"+
		"synchronous_commit = off\nfull_page_writes = off\nmax_connections = 40\nshared_buffers = 64MB\n"+
		"password_encryption = 'scram-sha-256'\n", s.Port, s.Socket)
	hba := "local all all trust\nhost all postgres 127.0.0.1/32 reject\nhost all all 127.0.0.1/32 scram-sha-256\n"
	if err := appendFile(filepath.Join(s.Dir, "postgresql.conf"), conf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		t.Fatal(err)
	}
	s.chown(filepath.Join(s.Dir, "pg_hba.conf"))
	if out, err := s.ctl("start", "-w", "-t", "60", "-l", filepath.Join(base, "log")); err != nil {
		log, _ := os.ReadFile(filepath.Join(base, "log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	if out, err := s.run("psql", "-h", s.Socket, "-p", strconv.Itoa(s.Port), "-U", s.User, "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q",
		"-c", fmt.Sprintf("CREATE ROLE otscope LOGIN PASSWORD '%s'", s.Password), "-c", "CREATE DATABASE otscope OWNER otscope"); err != nil {
		t.Fatalf("create role: %v\n%s", err, out)
	}
	return s
}

// DSN is a superuser connection over the Unix socket to database db.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", s.Socket, s.Port, s.User, db)
}

// TCPDSN is a connection of the "otscope" role over loopback TCP with the
// given password, to the "otscope" database.
func (s *Server) TCPDSN(password string) string {
	return fmt.Sprintf("postgres://otscope:%s@127.0.0.1:%d/otscope?sslmode=disable", password, s.Port)
}

// CreateDB creates an empty database owned by the superuser.
func (s *Server) CreateDB(t testing.TB, name string) string {
	t.Helper()
	if out, err := s.run("psql", "-h", s.Socket, "-p", strconv.Itoa(s.Port), "-U", s.User, "-d", "postgres", "-qc", "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v\n%s", err, out)
	}
	return s.DSN(name)
}

// Stop stops the server at once (a server that goes away).
func (s *Server) Stop() error {
	_, err := s.ctl("stop", "-m", "immediate", "-w", "-t", "20")
	return err
}

func (s *Server) ctl(args ...string) ([]byte, error) {
	return s.run("pg_ctl", append([]string{"-D", s.Dir}, args...)...)
}

func (s *Server) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGPASSWORD=")
	if s.owner != nil {
		uid, _ := strconv.Atoi(s.owner.Uid)
		gid, _ := strconv.Atoi(s.owner.Gid)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		cmd.Dir = s.Socket
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

func (s *Server) chown(path string) {
	if s.owner == nil {
		return
	}
	uid, _ := strconv.Atoi(s.owner.Uid)
	gid, _ := strconv.Atoi(s.owner.Gid)
	os.Chown(path, uid, gid)
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func freePort(t testing.TB) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if p > 1024 {
			return p
		}
	}
	t.Fatal("no free loopback port")
	return 0
}

func need(t testing.TB, what string) {
	t.Helper()
	testenv.Need(t, what, false)
}

// Wait polls until f succeeds or the deadline passes.
func Wait(t testing.TB, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v: %v", d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
