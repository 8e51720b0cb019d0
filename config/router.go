package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// ServiceGroup is the group the .deb's units run as: a root-owned secret it
// may read (root:failwatch 0640) is not exposed to anyone else.
const ServiceGroup = "failwatch"

// readableByOthers says who besides the file's owner may read a file
// holding a password ("" for nobody): other users, or a group other than
// the service's group of a file root owns.
func readableByOthers(fi fs.FileInfo) string {
	perm := fi.Mode().Perm()
	switch {
	case perm&0o007 != 0:
		return "others"
	case perm&0o070 == 0:
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	group := "its group"
	if ok {
		if g, err := user.LookupGroupId(strconv.FormatUint(uint64(st.Gid), 10)); err == nil {
			group = "group " + g.Name
			if st.Uid == 0 && g.Name == ServiceGroup && perm&0o030 == 0 {
				return ""
			}
		}
	}
	return group
}

func (d *decoder) validateRouter(cfg *Config) {
	r := &cfg.Router
	routerNode := d.at("router")
	if d.passwordGivenTwice("router.password", "router.password_env", "router.password_file") {
		return
	}
	if r.Address != "" {
		host := r.Address
		if h, port, err := net.SplitHostPort(r.Address); err == nil {
			host = h
			if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
				d.errorf(routerNode, "router.address", "bad port %q in %q", port, r.Address)
			}
		}
		if host == "" {
			d.errorf(routerNode, "router.address", "no host in %q", r.Address)
		}
	} else if routerNode != nil {
		d.errorf(routerNode, "router.address", "the router needs an address (host or host:port)")
	}
	if r.Insecure && !r.TLS {
		d.errorf(routerNode, "router.insecure", "insecure only applies with tls: true")
	}
	if d.password {
		r.Password = d.readPassword(cfg, "router", "the router's password", r.Password, r.PasswordEnv, r.PasswordFile)
	}
}

// passwordGivenTwice says (and reports) whether more than one of a
// section's password keys is given.
func (d *decoder) passwordGivenTwice(keys ...string) bool {
	given := d.inFileOrder(keys...)
	if len(given) < 2 {
		return false
	}
	d.errorf(d.at(given[1]), given[1], "the password is given twice (%s and %s): keep one", given[0], given[1])
	return true
}

// readPassword is a section's password: inline, from the environment
// variable env, or from the file, whose permissions are checked as sshd
// checks a key's.
func (d *decoder) readPassword(cfg *Config, section, what string, inline Secret, env, file string) Secret {
	if env != "" {
		if v, ok := os.LookupEnv(env); ok {
			return Secret(v)
		}
		d.warnings = append(d.warnings, fmt.Sprintf("%s.password_env: %s is not set; logging in with an empty password", section, env))
	}
	if file != "" {
		return d.readPasswordFile(cfg, section, what, file)
	}
	return inline
}

func (d *decoder) readPasswordFile(cfg *Config, section, what, file string) Secret {
	path := cfg.resolvePath(file)
	key := section + ".password_file"
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			d.errorf(d.at(key), key, "password file %s does not exist: write %s into it, readable by its owner only (or root:%s 0640)", path, what, ServiceGroup)
		} else {
			d.errorf(d.at(key), key, "read password file: %v", err)
		}
		return ""
	}
	if fi, err := os.Stat(path); err == nil {
		if who := readableByOthers(fi); who != "" {
			d.warnings = append(d.warnings, fmt.Sprintf(
				"password file %s is readable by %s (mode %04o): chmod 600 %s, or chown root:%s and chmod 640 for the units",
				path, who, fi.Mode().Perm(), path, ServiceGroup))
		}
	}
	return Secret(strings.TrimRight(string(data), "\r\n"))
}
