// Command controlplane runs a real kube-apiserver in-process, backed by an
// embedded etcd, on 127.0.0.1. It exists so that kubedora's tests exercise
// admission, CRD validation, RBAC and watches of a genuine API server on
// machines that have no container engine and cannot download Kubernetes.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "controlplane: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	dataDir := flag.String("data-dir", "", "directory for etcd data, certificates and keys (default: a new temporary directory, removed on exit)")
	port := flag.Int("port", 0, "secure port of the API server on 127.0.0.1 (0: a free port)")
	kubeconfigPath := flag.String("kubeconfig", "", "where to write the admin kubeconfig (default: <data-dir>/kubeconfig)")
	token := flag.String("token", "", "static admin bearer token, group system:masters (default: random)")
	verbosity := flag.Int("v", 0, "kube-apiserver log verbosity")
	keepData := flag.Bool("keep-data", false, "restart on the etcd data, credentials and token an earlier run left in --data-dir")
	flag.Parse()

	started := time.Now()
	if *keepData && *dataDir == "" {
		return fmt.Errorf("--keep-data needs --data-dir")
	}
	dir, cleanup, err := prepareDataDir(*dataDir, *keepData)
	if err != nil {
		return err
	}
	defer cleanup()

	pkiDir := filepath.Join(dir, "pki")
	if *keepData && *token == "" {
		if *token, err = readToken(pkiDir); err != nil {
			return err
		}
	}
	if *token == "" {
		if *token, err = randomToken(); err != nil {
			return err
		}
	}
	if *port == 0 {
		if *port, err = freePort(); err != nil {
			return err
		}
	}
	if *kubeconfigPath == "" {
		*kubeconfigPath = filepath.Join(dir, "kubeconfig")
	}

	var pki *pkiFiles
	if *keepData {
		pki, err = readPKI(pkiDir, *token)
	} else {
		pki, err = writePKI(pkiDir, *token)
	}
	if err != nil {
		return err
	}

	etcd, err := startEtcd(filepath.Join(dir, "etcd"))
	if err != nil {
		return err
	}
	defer etcd.Close()

	server := fmt.Sprintf("https://127.0.0.1:%d", *port)
	cmd := app.NewAPIServerCommand()
	cmd.SetArgs(apiserverArgs(*port, etcd.ClientURL, pki, *verbosity))

	// The API server installs its own SIGTERM/SIGINT handling and returns from
	// Execute once it has shut down; we then stop etcd and remove the data.
	ctx, stopWaiting := context.WithCancel(context.Background())
	defer stopWaiting()
	go func() {
		if err := waitReady(ctx, server, pki.caPEM, *token); err != nil {
			return
		}
		if err := writeKubeconfig(*kubeconfigPath, server, pki.caPEM, *token); err != nil {
			fmt.Fprintf(os.Stderr, "controlplane: %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("controlplane ready: server=%s kubeconfig=%s startup=%.1fs\n",
			server, *kubeconfigPath, time.Since(started).Seconds())
	}()

	if err := cmd.Execute(); err != nil {
		return fmt.Errorf("kube-apiserver: %w", err)
	}
	fmt.Println("controlplane stopped")
	return nil
}
