package main

import (
	"fmt"
	"net/url"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

type embeddedEtcd struct {
	server    *embed.Etcd
	ClientURL string
}

// startEtcd runs a single-member etcd on free loopback ports. Fsync is off:
// the data is thrown away with the process, and tests gain a lot of speed.
func startEtcd(dir string) (*embeddedEtcd, error) {
	clientPort, err := freePort()
	if err != nil {
		return nil, err
	}
	peerPort, err := freePort()
	if err != nil {
		return nil, err
	}
	clientURL := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", clientPort)}
	peerURL := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", peerPort)}

	cfg := embed.NewConfig()
	cfg.Name = "controlplane"
	cfg.Dir = dir
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.UnsafeNoFsync = true
	// Startup failures come back from StartEtcd; at shutdown etcd logs the
	// closing of its own listeners as errors, which would only mislead.
	cfg.LogLevel = "fatal"

	server, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start etcd: %w", err)
	}
	select {
	case <-server.Server.ReadyNotify():
	case err := <-server.Err():
		server.Close()
		return nil, fmt.Errorf("etcd: %w", err)
	case <-time.After(60 * time.Second):
		server.Close()
		return nil, fmt.Errorf("etcd was not ready within 60s")
	}
	return &embeddedEtcd{server: server, ClientURL: clientURL.String()}, nil
}

func (e *embeddedEtcd) Close() { e.server.Close() }
