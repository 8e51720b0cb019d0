package config_test

import (
	"fmt"

	"github.com/failwatch/failwatch/config"
)

// A config names the router, the service and its two servers; every problem
// comes back with its file, line and column.
func ExampleParse() {
	cfg, err := config.Parse("failwatch.yaml", []byte(`
router:
  address: 192.0.2.254
service:
  name: www.example.test
servers:
  - {name: public, role: primary, address: 198.51.100.7}
  - {name: private, role: standby, address: 192.0.2.7}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	svc := cfg.Services[0]
	primary, _ := cfg.Pair(svc)
	fmt.Println(svc.Name, "primary:", primary.Name, primary.Address, "router:", cfg.Router.RouterAddr())

	// Several names, one server carrying two of them.
	cfg, err = config.Parse("failwatch.yaml", []byte(`
router:
  address: 192.0.2.254
services:
  - {name: www.example.test, primary: pub1, standby: priv}
  - {name: api.example.test, primary: pub2, standby: priv}
servers:
  - {name: pub1, address: 198.51.100.7}
  - {name: pub2, address: 198.51.100.8}
  - {name: priv, address: 192.0.2.7}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, svc := range cfg.Services {
		fmt.Println(svc.Name, svc.Primary, "->", svc.Standby)
	}

	_, err = config.Parse("failwatch.yaml", []byte("probe:\n  interval: 1ms\n"))
	fmt.Println(err)
	// Output:
	// www.example.test primary: public 198.51.100.7 router: 192.0.2.254:8728
	// www.example.test pub1 -> priv
	// api.example.test pub2 -> priv
	// failwatch.yaml:2:13: probe.interval: must be at least 100ms, got "1ms"
}
