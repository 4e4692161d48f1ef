// lockcache-example: a Go client of lockcache built from protos/. It takes a lock, writes with
// its fencing token into a store that refuses stale tokens, shows a stale writer refused, and
// holds a lock past its ttl with the Hold stream. Prints one JSON line per step; exits 1 on
// the first step that does not go as the contract says.
//
//	lockcache-example -addr 127.0.0.1:50051 -resource invoice:42
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	lockcachev1 "kushim.dev/lockcache-example/gen/kushim/lockcache/v1"
)

// fencedStore is the storage side of fencing, in memory here; a database does the same in
// one statement: UPDATE ... SET value = $1, fence = $2 WHERE id = $3 AND fence < $2.
type fencedStore struct {
	fence map[string]int64
	value map[string]string
}

func (s *fencedStore) write(resource string, token int64, value string) bool {
	if token <= s.fence[resource] {
		return false
	}
	s.fence[resource] = token
	s.value[resource] = value
	return true
}

func say(step string, fields map[string]any) {
	fields["step"] = step
	line, _ := json.Marshal(fields)
	fmt.Println(string(line))
}

func fail(format string, args ...any) {
	say("failed", map[string]any{"error": fmt.Sprintf(format, args...)})
	os.Exit(1)
}

func acquire(ctx context.Context, locks lockcachev1.LockServiceClient, resource string,
	ttl time.Duration) *lockcachev1.AcquireLockResponse {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	answer, err := locks.Acquire(ctx, &lockcachev1.AcquireLockRequest{
		Resources: []string{resource}, TtlMs: ttl.Milliseconds(), RetryCount: 0,
	})
	if err != nil {
		fail("Acquire %s: %v", resource, err)
	}
	return answer
}

func release(ctx context.Context, locks lockcachev1.LockServiceClient, resource, token string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	answer, err := locks.Release(ctx, &lockcachev1.ReleaseLockRequest{
		Resources: []string{resource}, Token: token,
	})
	if err != nil || answer.Outcome != lockcachev1.ReleaseOutcome_RELEASED {
		fail("Release %s: %v %v", resource, answer.GetOutcome(), err)
	}
}

// lockAndWrite: two holders one after the other; the second's token is larger, and the
// first's late write is refused.
func lockAndWrite(ctx context.Context, locks lockcachev1.LockServiceClient, resource string) {
	store := &fencedStore{fence: map[string]int64{}, value: map[string]string{}}
	first := acquire(ctx, locks, resource, 10*time.Second)
	if first.Outcome != lockcachev1.LockOutcome_ACQUIRED {
		fail("first Acquire: %v %s", first.Outcome, first.Message)
	}
	if !store.write(resource, first.FencingToken, "first") {
		fail("write with a fresh fencing token refused")
	}
	release(ctx, locks, resource, first.Token)
	say("locked-and-wrote", map[string]any{"fencing_token": first.FencingToken})

	second := acquire(ctx, locks, resource, 10*time.Second)
	if second.Outcome != lockcachev1.LockOutcome_ACQUIRED || second.FencingToken <= first.FencingToken {
		fail("second Acquire: %v token %d after %d", second.Outcome, second.FencingToken,
			first.FencingToken)
	}
	if !store.write(resource, second.FencingToken, "second") {
		fail("write with the newer fencing token refused")
	}
	if store.write(resource, first.FencingToken, "stale") {
		fail("stale write with token %d accepted", first.FencingToken)
	}
	release(ctx, locks, resource, second.Token)
	say("stale-write-refused", map[string]any{
		"stale_token": first.FencingToken, "current_token": second.FencingToken,
		"value": store.value[resource],
	})
}

// hold keeps the lock for several of its ttls over the Hold stream, checks that nobody else
// gets it meanwhile, then half-closes the stream, which releases it.
func hold(ctx context.Context, locks lockcachev1.LockServiceClient, resource string) {
	const ttl = 600 * time.Millisecond
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	stream, err := locks.Hold(ctx)
	if err != nil {
		fail("Hold: %v", err)
	}
	err = stream.Send(&lockcachev1.HoldLockRequest{
		Acquire:            &lockcachev1.AcquireLockRequest{Resources: []string{resource}, TtlMs: ttl.Milliseconds()},
		MaxHoldMs:          10_000,
		HeartbeatTimeoutMs: ttl.Milliseconds(),
	})
	if err != nil {
		fail("Hold send: %v", err)
	}
	renewals := 0
	var token int64
	for renewals < 4 {
		message, err := stream.Recv()
		if err != nil {
			fail("Hold recv: %v", err)
		}
		if message.State != lockcachev1.HoldLockResponse_HOLDING {
			fail("Hold: %v (acquire %v)", message.State, message.GetAcquire().GetOutcome())
		}
		if message.Acquire != nil {
			token = message.Acquire.FencingToken
		}
		renewals++
		// A heartbeat per renewal (every ttl/3): lockcache lets a silent holder's lock go.
		if err := stream.Send(&lockcachev1.HoldLockRequest{}); err != nil {
			fail("Hold heartbeat: %v", err)
		}
	}
	other := acquire(ctx, locks, resource, time.Second)
	if other.Outcome != lockcachev1.LockOutcome_HELD {
		fail("Acquire while held answered %v", other.Outcome)
	}
	if err := stream.CloseSend(); err != nil {
		fail("Hold close: %v", err)
	}
	for {
		if _, err := stream.Recv(); err == io.EOF {
			break
		} else if err != nil {
			fail("Hold end: %v", err)
		}
	}
	after := acquire(ctx, locks, resource, time.Second)
	if after.Outcome != lockcachev1.LockOutcome_ACQUIRED || after.FencingToken <= token {
		fail("Acquire after the hold ended answered %v", after.Outcome)
	}
	release(ctx, locks, resource, after.Token)
	say("held", map[string]any{"renewals": renewals, "fencing_token": token})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "lockcache host:port")
	resource := flag.String("resource", "example:go", "resource to lock")
	flag.Parse()
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fail("connect %s: %v", *addr, err)
	}
	defer conn.Close()
	locks := lockcachev1.NewLockServiceClient(conn)
	ctx := context.Background()
	lockAndWrite(ctx, locks, *resource)
	hold(ctx, locks, *resource+":held")
	say("done", map[string]any{})
}
