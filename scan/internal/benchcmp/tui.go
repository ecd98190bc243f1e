package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// tuiBench opens the bench session in `otscope ui` in a detached tmux
// session of 80x24 and measures, once the UI is quiet, the latency of keys
// alternating down and up (keys of them) and then the CPU the idle UI uses
// over idle. Its row's wall time is open to first frame; CPU and RSS are
// the UI process's at the end.
func tuiBench(bin string, common []string, keys int, idle time.Duration) (result, error) {
	sock := "benchcmp-" + strconv.Itoa(os.Getpid())
	start := time.Now()
	tmux, pid, stop, err := tmuxRun(sock, append([]string{bin, "ui"}, common...))
	if err != nil {
		return result{}, err
	}
	defer stop()
	// ready: the asset table is drawn (its status bar counts the assets)
	for {
		screen, err := tmux("capture-pane", "-p", "-t", "b")
		if err != nil {
			return result{}, fmt.Errorf("the TUI exited: %w", err)
		}
		if strings.Contains(screen, "▸") && strings.Contains(screen, " assets") {
			break
		}
		if time.Since(start) > 2*time.Minute {
			return result{}, fmt.Errorf("no asset table after 2 minutes:\n%s", screen)
		}
		time.Sleep(50 * time.Millisecond)
	}
	opened := time.Since(start)
	// quiet: the first analysis has finished (under 5% of a core for a second)
	for {
		c0 := procCPU(pid)
		time.Sleep(time.Second)
		if c1 := procCPU(pid); c1 >= 0 && c1-c0 < 50*time.Millisecond {
			break
		}
		if time.Since(start) > 5*time.Minute {
			return result{}, errors.New("the TUI is not quiet after 5 minutes")
		}
	}
	lat, err := keyLatencies(sock, keys)
	if err != nil {
		return result{}, err
	}
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	// the clock stops a few seconds after the last key (ui.Settle)
	time.Sleep(7 * time.Second)
	c0, t0 := procCPU(pid), time.Now()
	time.Sleep(idle)
	c1, t1 := procCPU(pid), time.Now()
	if c0 < 0 || c1 < 0 {
		return result{}, errors.New("the TUI exited while idle")
	}
	name := fmt.Sprintf("otscope ui: first frame, %d keys (median %.1f ms)", keys, p50.Seconds()*1000)
	return result{name: name, wall: opened, cpu: c1, rssMB: procPeakRSS(pid), tui: true, keyP99: p99,
		idlePct: 100 * (c1 - c0).Seconds() / t1.Sub(t0).Seconds()}, nil
}

// tmuxRun starts argv (quoted for the shell) in a detached tmux session "b"
// of 80x24 on socket sock. It returns a runner of tmux commands on that
// socket, the pid of the pane's process (argv is exec'd: the program
// itself), and stop, which kills the server and removes its socket.
func tmuxRun(sock string, argv []string) (tmux func(args ...string) (string, error), pid int, stop func(), err error) {
	tmux = func(args ...string) (string, error) {
		out, err := exec.Command("tmux", append([]string{"-L", sock}, args...)...).Output()
		return string(out), err
	}
	cmd := "exec"
	for _, a := range argv {
		cmd += " " + shellQuote(a)
	}
	if _, err := tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", "b", cmd); err != nil {
		return nil, 0, nil, fmt.Errorf("tmux new-session: %w", err)
	}
	out, err := tmux("display", "-p", "-t", "b", "#{pane_pid} #{socket_path}")
	pidText, socket, _ := strings.Cut(strings.TrimSpace(out), " ")
	stop = func() {
		tmux("kill-server") //nolint:errcheck
		if socket != "" {
			os.Remove(socket) // tmux may leave it behind
		}
	}
	if err == nil {
		pid, err = strconv.Atoi(pidText)
	}
	if err != nil {
		stop()
		return nil, 0, nil, fmt.Errorf("tmux pane pid %q: %w", out, err)
	}
	return tmux, pid, stop, nil
}

// keyLatencies sends n keys (down, then up, in runs of 50) through a tmux
// control-mode client and times each from the command to the first output
// of the pane, waiting after each for the pane to be still for 30 ms.
func keyLatencies(sock string, n int) ([]time.Duration, error) {
	cc := exec.Command("tmux", "-L", sock, "-C", "attach", "-t", "b")
	in, err := cc.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cc.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cc.Start(); err != nil {
		return nil, fmt.Errorf("tmux -C: %w", err)
	}
	defer func() {
		in.Close()
		cc.Process.Kill() //nolint:errcheck
		cc.Wait()         //nolint:errcheck
	}()
	outputs := make(chan time.Time, 1024)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "%output ") {
				select {
				case outputs <- time.Now():
				default:
				}
			}
		}
		close(outputs)
	}()
	still := func(d time.Duration) error {
		for {
			select {
			case _, ok := <-outputs:
				if !ok {
					return errors.New("tmux control client ended")
				}
			case <-time.After(d):
				return nil
			}
		}
	}
	if err := still(200 * time.Millisecond); err != nil {
		return nil, err
	}
	lat := make([]time.Duration, 0, n)
	for i := range n {
		k := "Down"
		if i/50%2 == 1 {
			k = "Up"
		}
		t0 := time.Now()
		if _, err := io.WriteString(in, "send-keys -t b "+k+"\n"); err != nil {
			return nil, err
		}
		select {
		case t, ok := <-outputs:
			if !ok {
				return nil, errors.New("tmux control client ended")
			}
			lat = append(lat, t.Sub(t0))
		case <-time.After(5 * time.Second):
			return nil, fmt.Errorf("key %d (%s): no output in 5 s", i, k)
		}
		if err := still(30 * time.Millisecond); err != nil {
			return nil, err
		}
	}
	return lat, nil
}

// procCPU is the user+system CPU time of process pid, or -1 when it is gone.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	// fields after the command name (which may hold spaces): state is the
	// 3rd field of the line, utime the 14th and stime the 15th
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return -1
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clkTck
}

// procPeakRSS is the peak resident memory of process pid in MB (VmHWM).
func procPeakRSS(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// shellQuote quotes s for the shell tmux runs the command with.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
