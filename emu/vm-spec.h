/* vm-spec.h - one VM's description on the command line: vhost-device-vsock's --vm, Cloud Hypervisor's --vsock, serve's --vm. */
#ifndef VSOCKEMU_VM_SPEC_H
#define VSOCKEMU_VM_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest-apps.h"
#include "vm-group.h"

#define VM_SPEC_GUESTS	16	/* serve --vm guest= services per VM */

/* Which grammar a VM string follows: what socket= means differs. */
enum vm_spec_form {
	/*
	 * vhost-device-vsock's --vm (main.rs parse_vm_params()):
	 * guest-cid=N,socket=PATH,uds-path=PATH[,groups=G1+G2]; socket is
	 * where the front-end connects.
	 */
	VM_FORM_VHOST_USER,
	/*
	 * Cloud Hypervisor's --vsock (vm_config.rs VsockConfig::parse()):
	 * cid=N,socket=PATH[,iommu=on|off][,id=ID][,pci_segment=N]; socket
	 * is the host side's AF_UNIX socket.
	 */
	VM_FORM_CH,
	/*
	 * serve's --vm: cid=N,uds=PATH[,groups=G1+G2][,guest=PORT=SERVICE]...
	 * a simulated guest and its services.
	 */
	VM_FORM_SERVE,
};

struct vm_spec {
	uint64_t cid;
	const char *socket;		/* vhost-user: front-end's socket */
	const char *uds;		/* the host side's main socket */
	const char *id;			/* id=: names the VM in messages */
	bool iommu;			/* CH iommu=on: no effect here */
	struct vm_groups groups;	/* "default" unless groups= */
	struct gapp_listen_spec guest[VM_SPEC_GUESTS];	/* serve */
	unsigned nguest;
};

/*
 * Parses arg (cut in place at commas) in the given form into out.
 * Returns 0, or -1 with one line in err: an unknown key, a bad value,
 * a key given twice, a required key missing.
 */
int vm_spec_parse(char *arg, enum vm_spec_form form, struct vm_spec *out,
    char *err, size_t errlen);

/*
 * The VMs of one process, checked together (vhost-device-vsock refuses
 * a CID in use, CidAlreadyInUse): every CID a usable guest CID (3 to
 * 0xfffffffe, vsock_cid_valid()), no CID, socket or uds path twice.
 * Returns 0, or -1 with one line in err.
 */
int vm_specs_check(const struct vm_spec *v, unsigned n, char *err,
    size_t errlen);

#endif
