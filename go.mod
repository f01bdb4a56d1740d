module github.com/schemaproxy/schemaproxy

go 1.26.8
