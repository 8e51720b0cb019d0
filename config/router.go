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

	"go.yaml.in/yaml/v3"
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

func (d *decoder) router(path string, n *yaml.Node, r *Router) {
	var password string
	d.fields(n, path, map[string]func(string, *yaml.Node){
		"address":  d.str(&r.Address),
		"tls":      d.boolean(&r.TLS),
		"ca_file":  d.str(&r.CAFile),
		"insecure": d.boolean(&r.Insecure),
		"user":     d.str(&r.User),
		"password": func(key string, v *yaml.Node) {
			d.str(&password)(key, v)
			d.passwords = append(d.passwords, passwordSource{key, v})
		},
		"password_env": func(key string, v *yaml.Node) {
			d.str(&r.PasswordEnv)(key, v)
			d.passwords = append(d.passwords, passwordSource{key, v})
		},
		"password_file": func(key string, v *yaml.Node) {
			d.str(&r.PasswordFile)(key, v)
			d.passwords = append(d.passwords, passwordSource{key, v})
		},
		"timeout": d.duration(&r.Timeout),
	})
	r.Password = Secret(password)
}

func (d *decoder) validateRouter(cfg *Config) {
	r := &cfg.Router
	if len(d.passwords) > 1 {
		second := d.passwords[1]
		d.errorf(second.node, second.key, "the password is given twice (%s and %s): keep one", d.passwords[0].key, second.key)
		return
	}
	if r.Address != "" {
		host := r.Address
		if h, port, err := net.SplitHostPort(r.Address); err == nil {
			host = h
			if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
				d.errorf(d.routerNode, "router.address", "bad port %q in %q", port, r.Address)
			}
		}
		if host == "" {
			d.errorf(d.routerNode, "router.address", "no host in %q", r.Address)
		}
	} else if d.routerNode != nil {
		d.errorf(d.routerNode, "router.address", "the router needs an address (host or host:port)")
	}
	if r.Insecure && !r.TLS {
		d.errorf(d.routerNode, "router.insecure", "insecure only applies with tls: true")
	}
	if !d.password {
		return
	}
	if r.PasswordEnv != "" {
		if v, ok := os.LookupEnv(r.PasswordEnv); ok {
			r.Password = Secret(v)
		} else {
			d.warnings = append(d.warnings, fmt.Sprintf("router.password_env: %s is not set; logging in with an empty password", r.PasswordEnv))
		}
	}
	if r.PasswordFile != "" {
		d.readPasswordFile(cfg)
	}
}

func (d *decoder) readPasswordFile(cfg *Config) {
	r := &cfg.Router
	path := cfg.resolvePath(r.PasswordFile)
	src := d.passwords[0]
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			d.errorf(src.node, src.key, "password file %s does not exist: write the router's password into it, readable by its owner only (or root:%s 0640)", path, ServiceGroup)
		} else {
			d.errorf(src.node, src.key, "read password file: %v", err)
		}
		return
	}
	r.Password = Secret(strings.TrimRight(string(data), "\r\n"))
	if fi, err := os.Stat(path); err == nil {
		if who := readableByOthers(fi); who != "" {
			d.warnings = append(d.warnings, fmt.Sprintf(
				"password file %s is readable by %s (mode %04o): chmod 600 %s, or chown root:%s and chmod 640 for the units",
				path, who, fi.Mode().Perm(), path, ServiceGroup))
		}
	}
}
