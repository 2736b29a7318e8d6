package cluster

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/flint-engine/flint/driver/replica"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// memberChangeTimeout bounds one membership change: committing the new
// member's addresses, then raft's configuration change.
const memberChangeTimeout = 10 * time.Second

// ChangeMembers implements flintpb.DriverServer: it adds a member to the
// replicated group, or removes one, through raft (only the leader gets
// here; followers refuse and name it).
func (d *Driver) ChangeMembers(_ context.Context, req *pb.ChangeMembersRequest) (*pb.ChangeMembersResponse, error) {
	if d.rep == nil {
		return nil, status.Error(codes.FailedPrecondition,
			"this driver is not replicated: only a group started with --raft-id, --raft-dir and --peers changes members")
	}
	add, remove := req.GetAdd(), req.GetRemove()
	if (add == nil) == (remove == "") {
		return nil, status.Error(codes.InvalidArgument, "change members: give one member to add or one to remove")
	}
	var err error
	if add != nil {
		err = d.rep.AddMember(replica.Peer{ID: add.GetId(), RaftAddr: add.GetRaftAddress(), ClientAddr: add.GetClientAddress()},
			memberChangeTimeout)
	} else {
		err = d.rep.RemoveMember(remove, memberChangeTimeout)
	}
	switch {
	case errors.Is(err, replica.ErrNotLeader):
		d.mu.Lock()
		defer d.mu.Unlock()
		return nil, d.notLeaderLocked()
	case errors.Is(err, replica.ErrNotCommitted):
		return nil, status.Errorf(codes.Unavailable, "change members: %v", err)
	case err != nil:
		return nil, status.Errorf(codes.FailedPrecondition, "change members: %v", err)
	}
	if add != nil {
		d.log.Info("driver added to the group", "id", add.GetId(), "raft_addr", add.GetRaftAddress(), "addr", add.GetClientAddress())
	} else {
		d.log.Info("driver removed from the group", "id", remove)
	}
	members, err := d.rep.Members()
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "change members: %v", err)
	}
	resp := &pb.ChangeMembersResponse{}
	for _, m := range members {
		resp.Members = append(resp.Members, &pb.GroupMember{Id: m.ID, RaftAddress: m.RaftAddr, ClientAddress: m.ClientAddr})
	}
	return resp, nil
}
