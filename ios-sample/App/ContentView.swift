import PushSealSampleKit
import SwiftUI

/// One screen: the device's key, the registration, and the payloads that did not open.
struct ContentView: View {
    let model: DeviceModel

    var body: some View {
        NavigationStack {
            List {
                Section("This device's PushSeal key") {
                    LabeledContent("Key id") {
                        Text(model.keyId).font(.system(.body, design: .monospaced))
                    }
                    VStack(alignment: .leading, spacing: 4) {
                        Text("Public key").font(.caption).foregroundStyle(.secondary)
                        Text(model.publicKey)
                            .font(.system(.footnote, design: .monospaced))
                            .textSelection(.enabled)
                    }
                    Button("Rotate key", role: .destructive) { model.rotate() }
                        .disabled(model.keyId.isEmpty || model.isRegistering)
                }

                Section("Sender") {
                    LabeledContent("Registered key", value: model.registration?.keyId ?? "none")
                    Button(model.isRegistering ? "Registering…" : "Register with the sender") { model.registerNow() }
                        .disabled(model.keyId.isEmpty || model.isRegistering)
                    Text(model.status).font(.footnote).foregroundStyle(.secondary)
                }

                Section("Notifications") {
                    LabeledContent("Allowed", value: model.notificationsAllowed.map { $0 ? "yes" : "no" } ?? "asking")
                    if let id = model.lastTappedMessageId {
                        LabeledContent("Last opened message", value: id)
                    }
                }

                Section {
                    if model.failures.isEmpty {
                        Text("None").foregroundStyle(.secondary)
                    }
                    ForEach(Array(model.failures.enumerated().reversed()), id: \.offset) { _, record in
                        HStack {
                            Text("\(record.kind.wireName) (\(record.action.rawValue))").font(.system(.footnote, design: .monospaced))
                            Spacer()
                            Text(Date(timeIntervalSince1970: TimeInterval(record.at)), style: .relative)
                                .font(.footnote)
                                .foregroundStyle(.secondary)
                        }
                    }
                    if !model.failures.isEmpty {
                        Button("Clear") { model.clearFailures() }
                    }
                } header: {
                    Text("Payloads that did not open")
                } footer: {
                    Text("These showed only the generic fallback text. Only the kind of error and the library's action are kept.")
                }
            }
            .navigationTitle("PushSeal sample")
        }
    }
}
