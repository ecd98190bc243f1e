package store_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"otscope/assets/bundle"
	"otscope/assets/bundle/bundletest"
	"otscope/assets/review"
	"otscope/assets/store"
	"otscope/model"
	"otscope/scan/testenv"
)

// TestDecodersAgreeOnSessions checks, on the demo plant and on sessions
// read from the real captures, that every value and journal record the
// store writes decodes to the same Go value with store.UnmarshalJSON as
// with encoding/json, and that a session saved, loaded and exported to a
// bundle and read back is the session that went in.
func TestDecodersAgreeOnSessions(t *testing.T) {
	t.Run("demo plant", func(t *testing.T) {
		s := bundletest.Ingest(t, "demo", "plant.pcap", bundletest.PlantPcap(t, 8*time.Second))
		bundletest.AddJournals(t, &s)
		decodersAgree(t, s)
	})
	for _, p := range []string{"s7comm/s7ident.pcap", "modbus/modbus_test.pcap",
		"enip/ControlLogix_Logix5000_download_upload_run.pcap", "s7comm/tia_s300_goOnline.pcapng"} {
		t.Run(p, func(t *testing.T) {
			path := filepath.Join(bundletest.SharedDir(t), "pcaps", p)
			testenv.NeedPath(t, path)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s := bundletest.Ingest(t, "real", p, raw)
			bundletest.AddJournals(t, &s)
			decodersAgree(t, s)
		})
	}
}

// decodersAgree checks session s as TestDecodersAgreeOnSessions says.
func decodersAgree(t *testing.T, s bundle.Session) {
	t.Helper()
	name := t.Name()
	for i := range s.Assets {
		sameDecode(t, name, &s.Assets[i])
	}
	for i := range s.Conversations {
		sameDecode(t, name, &s.Conversations[i])
	}
	for i := range s.Stats {
		sameDecode(t, name, &s.Stats[i])
	}
	for _, j := range s.Journals {
		for _, r := range j.Records {
			switch j.Name {
			case store.StateHistory.String():
				sameRaw[review.StateRecord](t, name, r)
			case store.Waivers.String():
				sameRaw[review.WaiverRecord](t, name, r)
			case store.ScanLog.String():
				sameRaw[model.ScanRecord](t, name, r)
			default:
				t.Fatalf("%s: journal %s not checked", name, j.Name)
			}
		}
	}

	// Through an on-disk store (read with store.UnmarshalJSON) and a
	// bundle (read with it too): what comes out is what went in.
	st, err := store.Open(store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := bundle.ToStore(st, "s", &s); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = store.Open(store.Options{Dir: st.Dir(), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := st.Load("s")
	if err != nil || snap.Skipped != 0 {
		t.Fatalf("%s: Load: %v, %d skipped", name, err, snap.Skipped)
	}
	// What encoding/json reads back from the stored values.
	want := bundle.Session{Assets: viaStd(t, s.Assets), Conversations: viaStd(t, s.Conversations), Stats: viaStd(t, s.Stats)}
	if !reflect.DeepEqual(snap.Assets, want.Assets) || !reflect.DeepEqual(snap.Conversations, want.Conversations) ||
		!reflect.DeepEqual(snap.Stats, want.Stats) {
		t.Errorf("%s: the loaded session differs from the saved one", name)
	}
	back, _, err := bundle.FromStore(st, "s")
	if err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	var b bytes.Buffer
	if err := bundle.Write(&b, &back, bundle.Options{Created: s.Created}); err != nil {
		t.Fatal(err)
	}
	got, _, err := bundle.Read(&b, bundle.ReadOptions{})
	if err != nil {
		t.Fatalf("%s: bundle: %v", name, err)
	}
	if !reflect.DeepEqual(got.Assets, want.Assets) || !reflect.DeepEqual(got.Conversations, want.Conversations) ||
		!reflect.DeepEqual(got.Stats, want.Stats) || !reflect.DeepEqual(got.Journals, s.Journals) {
		t.Errorf("%s: the session differs after store and bundle", name)
	}
}

// viaStd returns what encoding/json decodes each of vs's JSON as: the value
// stored, as the store read it before it had a faster decoder.
func viaStd[T any](t *testing.T, vs []T) []T {
	t.Helper()
	out := make([]T, len(vs))
	for i := range vs {
		b, err := json.Marshal(&vs[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// sameDecode marshals *v as the store does and checks that both decoders
// give back the same value.
func sameDecode[T any](t *testing.T, name string, v *T) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	sameRaw[T](t, name, b)
}

// sameRaw decodes b as T with both decoders and fails unless they agree.
func sameRaw[T any](t *testing.T, name string, b []byte) {
	t.Helper()
	var std, got T
	if err := json.Unmarshal(b, &std); err != nil {
		t.Fatalf("%s: encoding/json: %v", name, err)
	}
	if err := store.UnmarshalJSON(b, &got); err != nil {
		t.Fatalf("%s: store.UnmarshalJSON: %v", name, err)
	}
	if !reflect.DeepEqual(std, got) {
		t.Fatalf("%s: %T decodes differently:\nencoding/json %+v\nstore         %+v", name, got, std, got)
	}
}
