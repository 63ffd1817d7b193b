// Command etcd is the etcd server at the version k8s.io/kubernetes v1.37.1 pins (go.etcd.io/etcd
// v3.7.0), built from the module proxy for the local cluster instead of a distribution's etcd.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
