package main

import (
	"context"
	"fmt"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"sigs.k8s.io/yaml"

	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	nodeheartbeat "sigs.k8s.io/kwok/kustomize/stage/node/heartbeat"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
	"sigs.k8s.io/kwok/pkg/apis/internalversion"
	"sigs.k8s.io/kwok/pkg/apis/v1alpha1"
	kwok "sigs.k8s.io/kwok/pkg/kwok/controllers"
	kwoklog "sigs.k8s.io/kwok/pkg/log"
	kwokclient "sigs.k8s.io/kwok/pkg/utils/client"
)

const (
	// nodeCount fake nodes are registered; kwok plays their kubelets.
	nodeCount = 3
	// fakeNodeAnnotation marks the nodes kwok manages.
	fakeNodeAnnotation = "kwok.x-k8s.io/node"
	// NeverReadyMarker in a container's image makes its pod run but never
	// become Ready, like a container whose readiness probe always fails: a
	// rollout to such an image stalls until its progressDeadlineSeconds.
	NeverReadyMarker = "never-ready"
)

// neverReadyKey selects the containers whose image asks for a pod that never
// becomes Ready.
const neverReadyKey = `.spec.containers.[] | select(.image | contains("` + NeverReadyMarker + `")) | .name`

// podNeverReady is the kwok Stage for those pods: scheduled, running,
// and not ready, for as long as they live.
const podNeverReady = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-never-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Pending']
    - key: '` + neverReadyKey + `'
      operator: 'Exists'
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        reason: ContainersNotReady
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        reason: ContainersNotReady
        type: ContainersReady
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        started: true
        restartCount: 0
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}
      {{ with NodeIPsWith .spec.nodeName }}
      hostIP: {{ index . 0 | Quote }}
      hostIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      {{ with PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
      podIP: {{ index . 0 | Quote }}
      podIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      phase: Running
      startTime: {{ $now | Quote }}
`

// stages are kwok's own fast lifecycles (nodes become Ready and send
// heartbeats; pods become Running and Ready at once, Job pods complete,
// deleted pods go), plus pod-never-ready above.
func stages() (map[internalversion.StageResourceRef][]*internalversion.Stage, error) {
	byRef := map[internalversion.StageResourceRef][]*internalversion.Stage{}
	for _, raw := range []string{
		nodefast.DefaultNodeInit,
		nodeheartbeat.DefaultNodeHeartbeat,
		podfast.DefaultPodReady,
		podNeverReady,
		podfast.DefaultPodComplete,
		podfast.DefaultPodDelete,
	} {
		var external v1alpha1.Stage
		if err := yaml.UnmarshalStrict([]byte(raw), &external); err != nil {
			return nil, fmt.Errorf("kwok stage: %w", err)
		}
		stage, err := internalversion.ConvertToInternalStage(&external)
		if err != nil {
			return nil, fmt.Errorf("kwok stage %s: %w", external.Name, err)
		}
		if stage.Name == "pod-ready" {
			stage.Spec.Selector.MatchExpressions = append(stage.Spec.Selector.MatchExpressions,
				internalversion.MatchExpression{JQ: &internalversion.SelectorJQ{
					Key:      neverReadyKey,
					Operator: internalversion.SelectorOpDoesNotExist,
				}})
		}
		ref := stage.Spec.ResourceRef
		byRef[ref] = append(byRef[ref], stage)
	}
	return byRef, nil
}

// startKubelet runs kwok's controllers in this process: they play the
// kubelet of every node annotated kwok.x-k8s.io/node=fake, and return once
// they watch. They stop with ctx.
func startKubelet(ctx context.Context, kubeconfig string) error {
	localStages, err := stages()
	if err != nil {
		return err
	}
	clients, err := kwokclient.NewClientset("", kubeconfig)
	if err != nil {
		return err
	}
	restConfig, err := clients.ToRESTConfig()
	if err != nil {
		return err
	}
	restClient, err := rest.RESTClientFor(restConfig)
	if err != nil {
		return err
	}
	typed, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return err
	}
	dynamicClient, err := clients.ToDynamicClient()
	if err != nil {
		return err
	}
	mapper, err := clients.ToRESTMapper()
	if err != nil {
		return err
	}
	controller, err := kwok.NewController(kwok.Config{
		Clock:                             clock.RealClock{},
		DynamicClient:                     dynamicClient,
		RESTClient:                        restClient,
		RESTMapper:                        mapper,
		ImpersonatingDynamicClient:        clients.ToImpersonatingDynamicClient(),
		ImpersonatingTypedClient:          clients.ToImpersonatingTypedClient(),
		TypedClient:                       typed,
		ManageNodesWithAnnotationSelector: fakeNodeAnnotation + "=fake",
		// Pods get addresses from their node's spec.podCIDR; this is for a
		// node without one.
		CIDR:                      "10.244.0.0/16",
		LocalStages:               localStages,
		PodPlayStageParallelism:   4,
		NodePlayStageParallelism:  2,
		PodsOnNodeSyncParallelism: 1,
		ID:                        "kube-controlplane",
	})
	if err != nil {
		return err
	}
	// kwok logs every stage it plays at info level; warnings are enough.
	ctx = kwoklog.NewContext(ctx, kwoklog.NewLogger(os.Stderr, kwoklog.LevelWarn))
	return controller.Start(ctx)
}

func nodeName(i int) string { return fmt.Sprintf("kwok-node-%d", i) }

// registerNodes creates the fake nodes (as a kubelet registers its node), or
// finds them from an earlier run with --keep-data.
func registerNodes(ctx context.Context, client kubernetes.Interface) error {
	for i := range nodeCount {
		name := nodeName(i)
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Annotations: map[string]string{fakeNodeAnnotation: "fake"},
				Labels: map[string]string{
					"kubernetes.io/hostname": name,
					"kubernetes.io/os":       "linux",
					"kubernetes.io/arch":     "amd64",
					"type":                   "kwok",
				},
			},
			Spec: corev1.NodeSpec{
				PodCIDR:  fmt.Sprintf("10.244.%d.0/24", i),
				PodCIDRs: []string{fmt.Sprintf("10.244.%d.0/24", i)},
			},
			Status: corev1.NodeStatus{
				Addresses: []corev1.NodeAddress{
					{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("10.0.0.%d", i+10)},
					{Type: corev1.NodeHostName, Address: name},
				},
				Capacity:    nodeResources(),
				Allocatable: nodeResources(),
			},
		}
		_, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("register node %s: %w", name, err)
		}
	}
	return nil
}

func nodeResources() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("16"),
		corev1.ResourceMemory: resource.MustParse("64Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
}

// waitNodesReady waits until kwok reported every fake node Ready and the
// node-lifecycle controller lifted the not-ready taint, so that pods can be
// scheduled there.
func waitNodesReady(ctx context.Context, client kubernetes.Interface) error {
	for {
		nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err == nil {
			ready := 0
			for _, node := range nodes.Items {
				if node.Annotations[fakeNodeAnnotation] == "fake" && schedulable(&node) {
					ready++
				}
			}
			if ready >= nodeCount {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("fake nodes not Ready: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func schedulable(node *corev1.Node) bool {
	for _, taint := range node.Spec.Taints {
		if taint.Key == corev1.TaintNodeNotReady || taint.Key == corev1.TaintNodeUnreachable {
			return false
		}
	}
	for _, condition := range node.Status.Conditions {
		if condition.Type == corev1.NodeReady {
			return condition.Status == corev1.ConditionTrue
		}
	}
	return false
}
