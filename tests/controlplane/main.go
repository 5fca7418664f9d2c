// Command controlplane runs a real kube-apiserver in-process, backed by an
// embedded etcd, on 127.0.0.1, with kube-controller-manager, kube-scheduler
// and kwok's simulated kubelets for a few fake nodes beside it. It exists so
// that kubedora's tests exercise admission, CRD validation, RBAC, watches and
// the built-in controllers (rollouts, namespace deletion, garbage collection)
// of a genuine cluster on machines that have no container engine and cannot
// download Kubernetes.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
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

	// The controller-manager, the scheduler and the simulated kubelets
	// reach the API server with the admin token too, through a kubeconfig
	// of their own that exists before the server does.
	componentsKubeconfig := filepath.Join(dir, "components.kubeconfig")
	server := fmt.Sprintf("https://127.0.0.1:%d", *port)
	if err := writeKubeconfig(componentsKubeconfig, server, pki.caPEM, *token); err != nil {
		return err
	}
	cmd := app.NewAPIServerCommand()
	cmd.SetArgs(apiserverArgs(*port, etcd.ClientURL, pki, *verbosity))

	// The API server installs its own SIGTERM/SIGINT handling and returns from
	// Execute once it has shut down. The same signals end the other
	// components; once all have stopped we stop etcd and remove the data.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var components sync.WaitGroup
	var (
		failureMu sync.Mutex
		failure   error
	)
	fail := func(err error) {
		failureMu.Lock()
		defer failureMu.Unlock()
		// Once shutting down, components fail as the server goes away; and
		// a second signal would make the API server exit at once.
		if failure != nil || ctx.Err() != nil {
			return
		}
		failure = err
		fmt.Fprintf(os.Stderr, "controlplane: %v\n", err)
		// Shut down the way a signal does, so that the data is removed.
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}
	go func() {
		if err := waitReady(ctx, server, pki.caPEM, *token); err != nil {
			return
		}
		apiserverReady := time.Since(started)
		if err := startComponents(ctx, &components, componentsKubeconfig, pki, fail); err != nil {
			fail(err)
			return
		}
		if err := writeKubeconfig(*kubeconfigPath, server, pki.caPEM, *token); err != nil {
			fail(err)
			return
		}
		fmt.Printf("controlplane ready: server=%s kubeconfig=%s startup=%.1fs (kube-apiserver %.1fs)\n",
			server, *kubeconfigPath, time.Since(started).Seconds(), apiserverReady.Seconds())
	}()

	err = cmd.Execute()
	stop()
	if !waitGroupWithin(&components, 15*time.Second) {
		fmt.Fprintln(os.Stderr, "controlplane: components still stopping after 15s; exiting anyway")
	}
	if err != nil {
		return fmt.Errorf("kube-apiserver: %w", err)
	}
	failureMu.Lock()
	defer failureMu.Unlock()
	if failure != nil {
		return failure
	}
	fmt.Println("controlplane stopped")
	return nil
}

// startComponents registers the fake nodes and starts, beside the API server,
// kube-controller-manager, kube-scheduler and kwok's simulated kubelets. It
// returns once every fake node is Ready; a component that fails later calls
// fail.
func startComponents(ctx context.Context, components *sync.WaitGroup, kubeconfig string, pki *pkiFiles, fail func(error)) error {
	restConfig, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return err
	}
	if err := registerNodes(ctx, client); err != nil {
		return err
	}
	run := func(component func(context.Context, []string) error, args []string) {
		components.Go(func() {
			if err := component(ctx, args); err != nil {
				fail(err)
			}
		})
	}
	run(runControllerManager, controllerManagerArgs(kubeconfig, pki))
	run(runScheduler, schedulerArgs(kubeconfig))
	if err := startKubelet(ctx, kubeconfig); err != nil {
		return fmt.Errorf("kwok: %w", err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return waitNodesReady(waitCtx, client)
}

func waitGroupWithin(group *sync.WaitGroup, timeout time.Duration) bool {
	done := make(chan struct{})
	go func() {
		group.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}
