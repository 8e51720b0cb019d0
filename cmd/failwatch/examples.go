package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// examples are each command's, by its path below failwatch ("failwatch"
// itself is the dashboard):
// its help shows them, and so does the man page. A line starting with #
// says what the next one does.
var examples = map[string]string{
	"failwatch": `
# the dashboard on the first config of the search path
failwatch
# against a failwatch sim on this machine, read-only, laid out for a wall
failwatch -c lab.yaml --router 127.0.0.1:8728 --read-only --wall`,
	"demo": `
failwatch demo
# with the automatic failover on, and metrics for Prometheus
failwatch demo --auto --metrics 127.0.0.1:9455`,
	"report": `
# every server of the config, 20 probes each
failwatch report --count 20
# hosts without a config: ICMP, an HTTP GET and a TCP port
failwatch report 192.0.2.7 https://www.example.com/ tcp://192.0.2.7:443
# for a script: which servers are not up
failwatch report --json --count 5 | jq -r '.servers[] | select(.state != "UP") | .name'`,
	"check": `
failwatch check
failwatch check -c /etc/failwatch/config.yaml`,
	"failover": `
# every service to its standby, after a question
failwatch failover
# one service, from a script, netwatch held for a maintenance
failwatch failover --service www.example.com --hold --yes --json`,
	"restore": `
failwatch restore
failwatch restore --service www.example.com --yes`,
	"status": `
# as the .deb installs it: /etc/failwatch/config.yaml, /etc/failwatch/router.password
sudo failwatch status
failwatch status --json | jq -r '.services[] | "\(.service) \(.active)"'`,
	"setup": `
# the script for a RouterOS 6 router whose primary is 196 ms away
failwatch setup --routeros 6.49 --rtt 196ms
# read the router's version, show the changes, ask, apply
failwatch setup --apply`,
	"sim": `
failwatch sim --listen 127.0.0.1:8728 --dns 127.0.0.1:5353
# as an old router in another zone
failwatch sim --routeros-version 6.49 --zone Asia/Jakarta
# then, in another terminal
failwatch status -c failwatch.yaml --router 127.0.0.1:8728`,
	"exporter": `
failwatch exporter --listen 127.0.0.1:9455 --log-format json
curl -s http://127.0.0.1:9455/healthz`,
	"serve": `
failwatch serve -c /etc/failwatch/config.yaml
# then, from an operator's or a viewer's machine
ssh -p 2222 jump.example.com
ssh -t -p 2222 jump.example.com wall`,
	"replay": `
failwatch demo --record demo.jsonl
failwatch replay --speed 10 demo.jsonl`,
	"version": `
failwatch version`,
	"completion": `
failwatch completion bash > /etc/bash_completion.d/failwatch
failwatch completion zsh > "${fpath[1]}/_failwatch"
failwatch completion fish > ~/.config/fish/completions/failwatch.fish`,
	"completion bash": `
source <(failwatch completion bash)
failwatch completion bash > /etc/bash_completion.d/failwatch`,
	"completion zsh": `
failwatch completion zsh > "${fpath[1]}/_failwatch"`,
	"completion fish": `
failwatch completion fish > ~/.config/fish/completions/failwatch.fish`,
	"completion powershell": `
failwatch completion powershell | Out-String | Invoke-Expression`,
	"man": `
failwatch man | man -l -`,
	"help": `
failwatch help report`,
}

// addExamples gives every command its examples.
func addExamples(c *cobra.Command) {
	c.Example = examples[exampleKey(c)]
	for _, sub := range c.Commands() {
		addExamples(sub)
	}
}

// exampleKey is a command's key in examples.
func exampleKey(c *cobra.Command) string {
	if !c.HasParent() {
		return c.Name()
	}
	return strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")
}
