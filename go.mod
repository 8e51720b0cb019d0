module github.com/failwatch/failwatch

go 1.26.8

require (
	github.com/prometheus-community/pro-bing v0.9.1
	golang.org/x/net v0.62.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/go-routeros/routeros/v3 v3.0.1 // indirect
	github.com/google/uuid v1.6.0 // indirect
	golang.org/x/sync v0.21.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
